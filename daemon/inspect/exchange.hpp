#pragma once
// The inspection of one exchange (DESIGN §2), independent of sockets: the request verdict, the
// buffered-response verdict and the streamed-response inspection, with the events they record.
//
//   ExchangeInspector x(rules, scanner, policy, facts);
//   RequestDecision d = x.inspect_request(head.headers, head.target, body);   //
//   allow/rewrite/answer
//   ... ResponseDecision r = x.inspect_response(body);                         // buffered JSON
//   ... x.start_stream(format); x.stream_chunk(chunk, out); x.stream_end(out); // SSE / NDJSON
//   std::vector<store::Event> ev = x.events().take();
//
// Rules:
//  - Decisions follow DESIGN §3.2: every (surface, layer) is scanned, rules are taken in
//    ascending priority and the first blocking rule decides; `redact` rewrites JSON string
//    values (or, when the text cannot be rewritten in place — raw bytes, a header, the URL, a
//    tool schema — blocks instead: the secret never leaves); monitor forwards and records.
//  - With no rules (`rules` null): fail_mode closed answers 503 POLICY.RULES_UNAVAILABLE;
//    open forwards (the hook counts and logs it).
//  - Answers never contain matched text; events never contain payload (event_recorder.hpp).
//  - Single-threaded: one exchange on one worker thread, with that thread's Scanner.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/http_message.hpp"
#include "daemon/inspect/answers.hpp"
#include "daemon/inspect/event_recorder.hpp"
#include "daemon/inspect/stream_inspector.hpp"
#include "daemon/inspect/surfaces.hpp"
#include "rules/engine.hpp"
#include "rules/scanner.hpp"

namespace edgeward::inspect {

// Settings that come from the config (DESIGN §5), fixed for an exchange.
struct InspectionPolicy {
  bool fail_closed = true;           // fail_mode
  std::size_t holdback_bytes = 128;  // streaming.holdback_bytes
};

// A response the gateway writes itself.
struct Answer {
  int status = 403;
  std::string body;         // application/json
  std::string reason_code;  // Edgeward-Reason
  std::string event_uid;    // Edgeward-Event ("" when no event, e.g. the 503)
};

struct RequestDecision {
  enum class Kind : std::uint8_t { allow, rewrite, answer };
  Kind kind = Kind::allow;
  std::string body;  // rewrite: the redacted body
  Answer answer;
  bool monitored = false;  // some rule matched in monitor mode (forwarded and recorded)
};

struct ResponseDecision {
  enum class Kind : std::uint8_t { allow, rewrite, answer };
  Kind kind = Kind::allow;
  std::string body;
  Answer answer;
};

// Counters of one exchange, for /metrics.
struct InspectionCounters {
  std::uint64_t bytes_scanned = 0;
  std::uint64_t findings = 0;
};

class ExchangeInspector {
 public:
  // `rules` may be null (no valid rules loaded). `scanner` is the calling thread's and must
  // outlive this object (both live on the same worker thread).
  ExchangeInspector(std::shared_ptr<const rules::CompiledRules> rules, rules::Scanner& scanner,
                    InspectionPolicy policy, ExchangeFacts facts);

  // The verdict on a request: `headers` and `target` are the surfaces `headers` and `url`,
  // `body` the whole request body (may be empty), followed by `padding` readable bytes (at
  // least kJsonPadding: parsed in place, surfaces.hpp).
  RequestDecision inspect_request(const http::Headers& headers, std::string_view target,
                                  std::string_view body, std::size_t padding = 0);

  // inspect_request in its three steps, public so that bench/inspect times exactly the code
  // the hook runs: extract_request() (surfaces.hpp), then scan_request() (every surface and
  // layer scanned, non-pattern checks), then decide_request() (priority order, events,
  // answer or rewrite). Only valid with rules (has_rules()).
  // A finding and where it was found: a piece (index into ExtractedBody::pieces), the joined
  // conversation (kConversation), the glued text parts (kGlued: a finding that crosses from
  // one part into the next) or a text outside the body (kNoPiece: url, headers, policy).
  static constexpr std::size_t kConversation = static_cast<std::size_t>(-1);
  static constexpr std::size_t kNoPiece = static_cast<std::size_t>(-2);
  static constexpr std::size_t kGlued = static_cast<std::size_t>(-3);
  struct Located {
    rules::Finding finding;
    std::size_t piece = kNoPiece;
    MatchedIn matched_in = MatchedIn::kBody;
    Layer layer = Layer::kPreTemplate;
  };
  std::vector<Located> scan_request(const ExtractedBody& extracted, const http::Headers& headers,
                                    std::string_view target, std::uint64_t body_size);
  RequestDecision decide_request(const ExtractedBody& extracted, std::vector<Located> found,
                                 std::string_view body);

  // The response head, before anything of it reaches the client: its reason phrase, header
  // names and header values (credential headers aside) scanned as the `headers` surface of the
  // response scope. Records the events; returns the block answer when the decision is block, or
  // redact (a header is not rewritten: it is blocked). Call once, before the body.
  std::optional<Answer> inspect_response_head(const http::ResponseHead& head);

  // The verdict on a whole (buffered) response body (`padding`: as for inspect_request).
  ResponseDecision inspect_response(std::string_view body, std::size_t padding = 0);

  // Streamed responses (stream_inspector.hpp): the inspector for this exchange's stream.
  // Returns nullptr when there are no rules (nothing to inspect: fail-open forwarding).
  // `route` replaces the exchange's own for reading the events (a mislabelled stream is read
  // as generic JSON events); answers keep the exchange's dialect.
  StreamInspector* start_stream(StreamFormat format, std::optional<Route> route = std::nullopt);
  StreamInspector* stream() { return stream_.get(); }

  // Whether a block/redact/monitor happened on either side (for metrics).
  EventRecorder& events() { return events_; }
  const InspectionCounters& counters() const { return counters_; }
  bool has_rules() const { return rules_ != nullptr; }
  const rules::CompiledRules* rules() const { return rules_.get(); }

 private:
  void scan_piece(const TextPiece& piece, std::size_t index, rules::Scope scope,
                  std::vector<Located>& out);
  void scan_text(std::string_view text, MatchedIn matched_in, Layer piece_layer, bool raw,
                 std::size_t index, rules::Scope scope, std::vector<Located>& out);
  void policy_checks(const ExtractedBody& body, rules::Scope scope, std::uint64_t body_size,
                     std::vector<Located>& out);
  Answer block_answer(const rules::Finding& f, std::string_view uid) const;
  // Sorts response findings by priority, records their events (the deciding rule's first) and
  // returns the decision; `found` holds no failed scan.
  rules::Decision record_response(std::vector<Located>& found);
  // Decides `found` (sorted by priority) and records one event per rule, the deciding one first.
  rules::Decision decide_and_record(const std::vector<Located>& found, store::Scope scope);

  std::shared_ptr<const rules::CompiledRules> rules_;
  rules::Scanner& scanner_;
  InspectionPolicy policy_;
  ExchangeFacts facts_;
  EventRecorder events_;
  InspectionCounters counters_;
  std::unique_ptr<StreamInspector> stream_;
  std::vector<rules::Finding> scratch_;
};

// Hosts of the http(s) URLs in `text` (markdown images and links included), lowercased,
// without userinfo or port; at most `limit`.
std::vector<std::string> url_hosts(std::string_view text, std::size_t limit = 64);

}  // namespace edgeward::inspect
