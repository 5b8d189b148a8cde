#pragma once
// HTTP/1.1 client for the proxy's upstream side: a keep-alive connection pool per upstream per
// event loop, with TLS (core/net/tls.hpp), async DNS, connect and response timeouts, and
// streaming in both directions with backpressure.
//
// Rules:
//  - Everything runs on the thread of the uv_loop_t the pool was created with. No locks.
//  - One UpstreamPool per (upstream, event loop). The pool owns its connections; an Exchange is
//    the caller's handle on one request/response on one of them.
//  - Callbacks never fire from inside the call that started the work (start, write_body,
//    resume_response, abort): they fire from libuv callbacks or from a deferred task run later
//    in the same loop iteration.
//  - The handler may destroy its Exchange (or call abort) from inside any callback; the client
//    notices and stops delivering. After on_response_end or on_failure no callback fires again.
//  - A connection returns to the idle pool only after a complete, well-framed exchange: request
//    fully written, response complete, both sides keep-alive, no abort. Anything else closes it.
//  - Destroying the UpstreamPool closes its idle connections at once; exchanges in flight keep
//    their connection (and the pool's internals) alive until they end, so a config reload can
//    drop the old pools without cutting requests.
//  - Header values and bodies never appear in an Error message.

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/net/http_message.hpp"
#include "core/result.hpp"

namespace edgeward::http {

// TLS settings for an upstream (DESIGN §5 `upstreams[].tls`).
struct TlsClientOptions {
  bool verify = true;   // certificate chain + host name; false accepts any certificate
  std::string ca_file;  // PEM bundle; empty = the system store (SSL_CTX_set_default_verify_paths)
  std::string sni;      // server name sent and verified; empty = `host` (no SNI for IP literals)
};

struct UpstreamTarget {
  std::string name;        // the config's upstreams[].name; used in error messages
  std::string scheme;      // "http" or "https"
  std::string host;        // DNS name or IP literal (IPv6 without brackets)
  std::uint16_t port = 0;  // 0 = the scheme's default (80 / 443)
  TlsClientOptions tls;
  std::chrono::milliseconds connect_timeout{5000};  // DNS + TCP connect + TLS handshake
  // Time to the first byte of the response head after the request was sent, and the longest
  // silence between two reads of the response (head or body) after that. While request bytes
  // are still queued for the upstream, the deadline only expires when none of them was written
  // in that time (a slow reader of a large body is not a hung upstream).
  std::chrono::milliseconds response_timeout{600000};
  std::size_t max_idle = 64;                     // idle keep-alive connections kept; 0 = no reuse
  std::chrono::milliseconds idle_expiry{30000};  // an idle connection older than this is closed
};

// Parses "http://host[:port]" / "https://host[:port]" (an optional trailing "/" is accepted; a
// path is not) into the scheme/host/port of a target; other fields keep their defaults.
// Errors: "upstream.bad_url" (no scheme, unknown scheme, empty host, junk), "upstream.bad_port".
Result<UpstreamTarget> parse_upstream_url(std::string_view url);

// Why an exchange failed. The proxy maps these to 502/504 (DESIGN §2).
enum class UpstreamFailure {
  dns,              // name resolution failed               Error code "upstream.dns"
  connect_refused,  // TCP connect failed (refused, unreachable) "upstream.connect_failed"
  connect_timeout,  // connect_timeout elapsed before the TLS handshake ended
                    // "upstream.connect_timeout"
  tls,  // handshake or verification failed: "tls.handshake_failed" / "tls.verify_failed"
  response_timeout,  // response_timeout elapsed             "upstream.response_timeout"
  reset,             // the connection closed or reset before the response ended "upstream.reset"
  bad_response,      // unparsable or badly framed response  "upstream.bad_response"
  bad_request,       // the caller's request cannot be sent as framed: "upstream.bad_request" (bad
                // Content-Length, body on a bodiless request) or "upstream.body_length_mismatch"
};

// Stable lowercase name ("connect_refused") for logs and metrics.
std::string_view to_string(UpstreamFailure failure);

// Receives the events of one exchange, on the loop thread, in this order:
//   on_response_head, on_response_body*, on_response_end   — or on_failure at any point.
// on_request_body_drained may interleave anywhere before the end.
class ExchangeHandler {
 public:
  virtual ~ExchangeHandler() = default;

  // The final (non-1xx) response head; 1xx interim responses are consumed by the client. The
  // headers are as received (including Content-Length / Transfer-Encoding, so that the caller
  // can see how the upstream framed the body); the caller re-frames for its own client.
  virtual void on_response_head(ResponseHead&& head) = 0;

  // De-chunked body bytes. The view points into a buffer owned by the client and is valid only
  // during the call: copy what must outlive it. Never called for HEAD, 204 or 304 responses.
  virtual void on_response_body(std::string_view bytes) = 0;

  // The response ended, well framed. The connection may already be back in the pool.
  virtual void on_response_end() = 0;

  // The exchange failed; `error.code` is stable (see UpstreamFailure). A failure after
  // on_response_head means the response is truncated. Terminal: nothing fires after it.
  virtual void on_failure(UpstreamFailure failure, const Error& error) = 0;

  // pending_write_bytes() fell to the exchange's request low watermark (0 unless
  // set_request_low_watermark said otherwise) after a write_body call had left it above: the
  // caller may resume reading its client. Default: ignore.
  virtual void on_request_body_drained() {}
};

// The caller's handle on one request/response. Created by UpstreamPool::start; destroying it
// before on_response_end / on_failure aborts the exchange (the connection is closed, no callback
// fires). Destroying it afterwards is free.
class Exchange {
 public:
  virtual ~Exchange() = default;

  // Streams request body bytes, in order; `last` marks the end of the body and must be passed
  // exactly once, also for requests without a body (write_body({}, true)). The bytes are copied
  // or written before the call returns: the caller may reuse its buffer at once.
  // Framing: a Content-Length in the head is honoured (the total must match, else the exchange
  // fails with "upstream.body_length_mismatch"); without one, the client sends Content-Length
  // when the whole body is known before the head goes out, and chunked encoding otherwise.
  // Calls after `last`, after the end or after a failure are ignored.
  virtual void write_body(std::string_view bytes, bool last) = 0;

  // The whole body at once, handed over: the same as write_body(body, true), except that a
  // client that must keep the body (queued while connecting, or kept to replay the request on
  // a fresh connection when a reused one turns out dead) takes the buffer instead of copying
  // it. `body` is left empty or unspecified.
  virtual void write_whole_body(std::string&& body) { write_body(body, true); }

  // Request bytes accepted by write_body but not yet handed to the kernel: bytes queued while
  // connecting, plus the libuv write queue (uv_stream_get_write_queue_size), plus TLS output
  // not yet written. The caller compares this with its high watermark to pause its client.
  virtual std::size_t pending_write_bytes() const = 0;

  // on_request_body_drained fires once pending_write_bytes() is at or below `bytes` (default 0:
  // everything written). A caller that pauses its client above a high watermark passes its low
  // watermark here, so that reading resumes with hysteresis instead of at empty.
  virtual void set_request_low_watermark(std::size_t bytes) = 0;

  // Stops reading the upstream socket (response backpressure): no on_response_body fires until
  // resume_response. Not counted: two pauses need one resume. The response timeout does not run
  // while paused.
  virtual void pause_response() = 0;
  virtual void resume_response() = 0;

  // Ends the exchange now: closes its connection, fires nothing. Idempotent.
  virtual void abort() = 0;

  // True once on_response_end or on_failure has fired (or abort was called).
  virtual bool finished() const = 0;
};

// Counters of one pool, for /status and /metrics.
struct UpstreamPoolStats {
  std::uint64_t connections_opened = 0;  // TCP connections started (DNS included)
  std::uint64_t connections_reused = 0;  // exchanges served by an idle connection
  std::uint64_t exchanges_started = 0;
  std::uint64_t exchanges_failed = 0;
  std::size_t idle_connections = 0;    // now
  std::size_t active_connections = 0;  // now, connecting or carrying an exchange
};

class UpstreamPool {
 public:
  // `loop` must outlive the pool's internals (every exchange it started). No I/O happens until
  // the first start().
  UpstreamPool(uv_loop_t* loop, UpstreamTarget target);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // Starts one exchange: takes an idle keep-alive connection or opens a new one (DNS, connect,
  // TLS), then sends `head` (copied; the caller may free it on return). The head is sent as
  // given except for framing headers, which follow Exchange::write_body's rules; the caller
  // sets Host and removes hop-by-hop headers. `handler` must outlive the Exchange or its
  // terminal callback, whichever comes first. Never fails synchronously: a failure (bad TLS
  // setup, DNS, …) arrives as on_failure from a later loop turn.
  std::unique_ptr<Exchange> start(const RequestHead& head, ExchangeHandler& handler);
  // The same, taking the head over instead of copying it.
  std::unique_ptr<Exchange> start(RequestHead&& head, ExchangeHandler& handler);

  const UpstreamTarget& target() const;
  UpstreamPoolStats stats() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace edgeward::http
