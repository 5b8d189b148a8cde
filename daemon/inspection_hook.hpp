#pragma once
// The inspection stage of the proxy pipeline (DESIGN §2): the contract between the forwarding
// code (daemon/proxy.cpp) and the inspection engine (daemon/inspect/, library edgeward_inspect).
//
//   client ─▶ InspectionHook::begin ─▶ RequestInspection::decide_request ─┬─ answer ─▶ client
//                                                                         └─ allow/rewrite ─▶
//                                                                         upstream
//   upstream head ─▶ on_response_head ─┬─ pass ──────────────────────────────▶ client (as is)
//                                      ├─ buffer ─▶ decide_response(whole body) ─▶ client
//                                      └─ stream ─▶ on_response_chunk* ─▶ on_response_end ─▶ client
//
// Rules:
//  - Threads: make_inspection_hook() and InspectionHook::reload() run on the main thread.
//    InspectionHook::begin() runs on any worker thread, concurrently: it must be thread-safe.
//    A RequestInspection is used by one worker thread only, never concurrently, and is
//    destroyed on that thread when the exchange ends (completed, failed or client gone).
//  - Every call is synchronous and runs on an event loop: keep it short (Hyperscan scans, no
//    blocking I/O). The proxy measures the time spent inside these calls and reports it in
//    `Server-Timing: edgeward;dur=<ms>` on every response.
//  - Buffers: every std::string_view argument is valid only during the call. A body given with
//    `padding` has that many allocated, readable bytes after its end (the proxy's buffer keeps
//    kBodyPadding), so that the hook can parse it in place; 0 means none. The request head is
//    the proxy's; the hook may edit it in decide_request (e.g. drop a header) before it is
//    forwarded. The proxy re-frames bodies itself: a hook never writes Content-Length or
//    Transfer-Encoding.
//  - Bodies are buffered only when asked: the request body when wants_request_body() is true (at
//    most limits.max_request_body, beyond which the client gets 413 POLICY.BODY_TOO_LARGE), the
//    response body when on_response_head() returns ResponseMode::buffer (at most
//    limits.max_response_body, beyond which the client gets 502 edgeward_upstream_error). A
//    passed or streamed body is never copied for the hook's sake.
//  - An `answer` is sent as given (status, headers, body) plus Content-Length and Server-Timing;
//    the hook builds the dialect's error shape and the Edgeward-Reason / Edgeward-Event headers.
//  - Nothing here is logged by the proxy beyond status codes and timings.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/net/http_message.hpp"
#include "core/result.hpp"
#include "daemon/config.hpp"

namespace edgeward {
class MetricsRegistry;
}

namespace edgeward::daemon {

// Readable bytes the proxy keeps allocated after the end of a buffered body it passes to the
// hook (decide_request, decide_response): simdjson reads up to 64 bytes past its input, so a
// body with this much room is parsed where it is instead of being copied.
inline constexpr std::size_t kBodyPadding = 64;

// The API family a request speaks, picked from the path when the upstream's dialect is "auto"
// (DESIGN §2): openai /v1/chat/completions, /v1/completions, /v1/responses, /v1/embeddings;
// anthropic /v1/messages; ollama /api/chat, /api/generate; generic otherwise.
enum class ApiDialect : std::uint8_t { openai, anthropic, ollama, generic };
std::string_view to_string(ApiDialect dialect);
// The dialect of `path` (no query) under `setting` ("auto", "openai", …; unknown → generic).
ApiDialect dialect_for(std::string_view setting, std::string_view path);

// Where a request is going. Views into the proxy's config and the request head: valid during
// InspectionHook::begin only (the proxy hands the head over to the upstream side once the hook
// has decided on it), so a hook copies what it keeps.
struct RouteInfo {
  std::string_view upstream;         // upstreams[].name
  std::string_view dialect_setting;  // upstreams[].dialect as configured ("auto", …)
  ApiDialect dialect = ApiDialect::generic;
  std::string_view path;  // request path without the query
};

// A complete response made by the hook (a block, a policy answer).
struct HookAnswer {
  int status = 403;
  http::Headers headers;  // e.g. Content-Type, Edgeward-Reason, Edgeward-Event
  std::string body;
};

struct RequestVerdict {
  enum class Kind : std::uint8_t {
    allow,    // forward the request (and its body) unchanged
    rewrite,  // forward `body` instead of the original body (redaction)
    answer,   // do not forward; send `answer` to the client
  };
  Kind kind = Kind::allow;
  std::string body;  // rewrite
  HookAnswer answer;
};

enum class ResponseMode : std::uint8_t {
  pass,    // forward the body unchanged, chunk by chunk, without calling the hook again
  buffer,  // collect the whole body, then call decide_response
  stream,  // call on_response_chunk for each piece as it arrives (SSE, NDJSON)
};

struct ResponseVerdict {
  enum class Kind : std::uint8_t { allow, rewrite, answer };
  Kind kind = Kind::allow;
  std::string body;   // rewrite: the body sent instead (the upstream's status and headers stay)
  HookAnswer answer;  // answer: replaces the upstream's response entirely
};

enum class StreamAction : std::uint8_t {
  forward,  // send the chunk as received (`out` is ignored): the zero-copy path
  replace,  // send `out` instead (possibly empty: the bytes are held back for now)
  end,      // send `out` (e.g. one final error event), then end the response cleanly and drop
            // the rest of the upstream's stream
};

// The inspection of one exchange. Created by InspectionHook::begin; see the Rules above.
class RequestInspection {
 public:
  virtual ~RequestInspection() = default;

  // Asked once, right after begin(): should the proxy buffer the request body before calling
  // decide_request? When false, decide_request is called at once with an empty body (a verdict
  // on the head alone) and the body streams through uninspected.
  virtual bool wants_request_body() const = 0;

  // The verdict on the request. `head` may be edited (headers only; target and method too, but
  // routing has already happened). `body` is the whole body, or empty (see above), followed by
  // `padding` readable bytes (see Buffers).
  virtual RequestVerdict decide_request(http::RequestHead& head, std::string_view body,
                                        std::size_t padding) = 0;
  RequestVerdict decide_request(http::RequestHead& head, std::string_view body) {
    return decide_request(head, body, 0);
  }

  // The upstream's final response head (after the proxy dropped hop-by-hop headers). The hook
  // may edit headers. Only called when the request was forwarded.
  virtual ResponseMode on_response_head(http::ResponseHead& head) = 0;

  // ResponseMode::buffer: the whole (de-chunked) response body, followed by `padding` readable
  // bytes (see Buffers).
  virtual ResponseVerdict decide_response(std::string_view body, std::size_t padding) = 0;
  ResponseVerdict decide_response(std::string_view body) { return decide_response(body, 0); }

  // ResponseMode::stream: the next piece of the body, as the upstream sent it (arbitrary
  // boundaries: an SSE event may be split across calls). `out` is empty on entry.
  virtual StreamAction on_response_chunk(std::string_view chunk, std::string& out) = 0;

  // ResponseMode::stream: the upstream ended the body. Append whatever was held back to `out`.
  virtual void on_response_end(std::string& out) = 0;

  // ResponseMode::stream: the upstream failed after the head went out (`code` such as
  // "upstream.reset", `message` the text of the proxy's own 502/504 body). True: `out` holds
  // one final error event the client's SDK reads, and the proxy ends the response cleanly.
  // False (the default, and a stream already ended): the proxy cuts the response short.
  virtual bool on_response_failure(std::string_view message, std::string_view code,
                                   std::string& out) {
    (void)message;
    (void)code;
    (void)out;
    return false;
  }

  // The exchange is over: the status the client got (0 when the client went away first).
  // For the hook's own bookkeeping (events, counters). Default: nothing.
  virtual void on_complete(int status) { (void)status; }
};

// The engine. One instance shared by every worker; see the threading Rules above.
class InspectionHook {
 public:
  virtual ~InspectionHook() = default;

  // A new request on `route`. nullptr: not inspected at all (forwarded as is).
  virtual std::unique_ptr<RequestInspection> begin(const RouteInfo& route,
                                                   const http::RequestHead& head) = 0;

  // SIGHUP: the new config (rules file, mode, fail_mode, holdback…). Requests in flight keep
  // the state they started with. An error keeps the previous state (and is logged by the
  // caller). Default: nothing to reload.
  virtual Status reload(const Config& config) {
    (void)config;
    return {};
  }

  // For GET /readyz: true when rules are loaded (DESIGN §5). Default: ready.
  virtual bool ready() const { return true; }

  // For GET /status: writes one JSON value (object) describing the rules state, e.g.
  // {"version":4521,"state":"active"}. Default: null.
  virtual void write_status(json::JsonWriter& out) const { out.null(); }
};

// Implemented by edgeward_inspect (daemon/inspect/) when that library is part of the build;
// edgewardd calls it once at start (main thread) with the loaded config and the metrics
// registry where the engine registers its counters (decisions by reason code, scan bytes, …).
// Without that library edgewardd forwards without inspection and says so at start.
Result<std::shared_ptr<InspectionHook>> make_inspection_hook(const Config& config,
                                                             MetricsRegistry& metrics);

}  // namespace edgeward::daemon
