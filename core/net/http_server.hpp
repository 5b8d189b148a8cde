#pragma once
// HTTP/1.1 server on libuv + HttpParser: listener, connections, limits, timeouts, backpressure.
//
// Rules:
//  - One HttpServer per event loop; everything runs on that loop's thread. Several servers (one
//    per worker thread) can share a TCP port: each binds its own socket with SO_REUSEPORT.
//  - The application (HttpApp) gets one call per request (on_request) and answers through the
//    Responder it is given; per request it returns a RequestHandler that receives the body.
//  - Requests on one connection are handled one at a time and answered in order (pipelined
//    requests wait, unparsed, until the response before them has ended).
//  - The server never calls the application from inside a call the application made
//    (Responder::*): follow-up work (the next pipelined request, destroying a finished
//    handler) is deferred to a later step of the loop.
//  - The server enforces DESIGN §5 limits itself: max_header_bytes (431), max_request_body
//    (413 POLICY.BODY_TOO_LARGE), header_timeout (408), idle_timeout (silent close),
//    max_connections (503 and close), and refuses malformed or smuggling-shaped requests (400),
//    then closes the connection gracefully (shutdown, short linger, close).
//  - Limits may change at run time (reload); a connection uses the limits current when each
//    request starts.

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/metrics.hpp"
#include "core/net/http_message.hpp"
#include "core/net/http_parser.hpp"
#include "core/result.hpp"

namespace edgeward::http {

struct ServerLimits {
  std::uint64_t max_request_body = 8ull << 20;
  std::size_t max_header_bytes = 64u << 10;
  std::chrono::milliseconds header_timeout{10000};  // first byte of a head → whole head
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait; also body and write stalls
  std::size_t max_connections = 4096;
  std::size_t write_high_watermark = 256u << 10;  // pending response bytes that pause the source
  std::size_t write_low_watermark = 64u << 10;    // … and that resume it
};

// The response side of one request, given to the application with the request. Valid until
// the application's RequestHandler gets on_client_gone, or until end() has been called.
class Responder {
 public:
  virtual ~Responder() = default;

  // Queues the response head. `content_length`: the exact body size, or nullopt for a body of
  // unknown size (chunked; for an HTTP/1.0 client: until close). The server adds the framing
  // headers and "Connection: close" when the connection will close; the caller must not set
  // Content-Length, Transfer-Encoding or Connection. The head is written together with the
  // first body bytes (one writev) or at end().
  virtual void send_head(ResponseHead& head, std::optional<std::uint64_t> content_length) = 0;

  // Writes body bytes now (SSE/NDJSON pieces are flushed as they come). The bytes are written
  // directly when the socket takes them; only what it does not take is copied.
  virtual void send_body(std::string_view bytes) = 0;

  // Ends the response. After this call the Responder must not be used again.
  virtual void end() = 0;

  // Ends the response abnormally: the connection is closed without completing the body (the
  // only way to tell a client that a response already under way is truncated). The handler
  // gets no further calls but its destruction. After this call the Responder must not be used.
  virtual void abort() = 0;

  // Convenience: head + whole body + end, in one write.
  virtual void respond(ResponseHead& head, std::string_view body) = 0;

  // Response bytes accepted but not yet handed to the kernel.
  virtual std::size_t pending_write_bytes() const = 0;
  // Whether send_head was called.
  virtual bool head_sent() const = 0;

  // Request-body backpressure: stop / restart reading the client. Counted: each pause needs
  // its own resume.
  virtual void pause_request_body() = 0;
  virtual void resume_request_body() = 0;
};

// Receives one request's body and the connection's events. Called on the loop thread, never
// from inside a Responder call.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // De-chunked body bytes; the view is valid only during the call.
  virtual void on_request_body(std::string_view bytes) = 0;
  // The request body is complete (also called at once for a request without a body).
  virtual void on_request_end() = 0;
  // pending_write_bytes() fell below the low watermark after it had risen above the high one.
  virtual void on_response_drained() {}
  // The connection died (client closed, reset, timed out) before end(): stop using the
  // Responder at once. The handler is destroyed after this call returns, at a later loop step.
  virtual void on_client_gone() = 0;
};

class HttpApp {
 public:
  virtual ~HttpApp() = default;

  // A new request. Return the handler of its body, which lives until the response has ended
  // and the request body is complete (or the client is gone). The application may answer at
  // once through `responder` (then still return a handler; its body callbacks may be no-ops).
  virtual std::unique_ptr<RequestHandler> on_request(RequestHead&& head, const BodyFraming& framing,
                                                     Responder& responder) = 0;

  // The response the server sends for an error of its own (400, 408, 413, 431, 503). `head` is
  // the request head when one was parsed. Default: DESIGN §2's OpenAI error shape, with
  // `code` = POLICY.BODY_TOO_LARGE for 413 and the parser's error code otherwise.
  virtual void make_error(int status, const Error& error, const RequestHead* head,
                          ResponseHead& out_head, std::string& out_body);
};

// The OpenAI-shaped error body: {"error":{"message":…,"type":…,"code":…,"param":null}}.
std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code);

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t requests = 0;
  std::uint64_t errors_sent = 0;  // 4xx/5xx made by the server itself
  std::size_t open_connections = 0;
};

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, HttpApp& app, ServerLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on "host:port", "[v6]:port" or "unix:/path". `reuse_port` sets SO_REUSEPORT so that
  // several servers (threads or processes) share the port. Port 0 picks a free port (see
  // local_port()). Errors: "listen.bad_address", "uv.<ERR>".
  Status listen(std::string_view address, bool reuse_port);
  // Listens on an already bound socket (inherited or made by another thread); not owned.
  std::uint16_t local_port() const;

  void set_limits(const ServerLimits& limits);
  const ServerLimits& limits() const;

  // A gauge kept equal to the number of open connections (shared by several servers).
  void set_connection_gauge(Gauge* gauge);

  // Stops accepting, closes idle connections, and lets each busy one finish its current
  // response, then close. `on_drained` runs (from a loop callback) once no connection is left.
  void drain(std::function<void()> on_drained);
  // Closes every connection at once (after a drain bound expired).
  void close_all();

  ServerStats stats() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses "host:port" / "[v6]:port" into a sockaddr. Error "listen.bad_address".
Result<sockaddr_storage> parse_socket_address(std::string_view address);

}  // namespace edgeward::http
