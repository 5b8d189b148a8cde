// HTTP/1.1 server connections.
//
// Connection state machine (one per accepted socket; asserted in transition()):
//
//            accept
//              │
//              ▼       first byte        head parsed (app.on_request)
//   ┌──────▶ Waiting ───────────▶ ReadingHead ───────────────────────▶ InRequest
//   │        (idle_timeout /      (header_timeout → 408)               │  request body in,
//   │         header_timeout                                           │  response out,
//   │         on a fresh socket)                                       │  both directions
//   │                                                                  │  independent
//   │          request complete && response ended && keep-alive        │
//   └──────────────────────────────────────────────────────────────────┘
//
//   Waiting / ReadingHead / InRequest ──(error, limit, timeout, close requested)──▶ Closing
//   Closing: write what is queued, shutdown(SHUT_WR), read and discard until EOF or the linger
//            deadline, then ──▶ Closed.
//   any ──(reset, write error, close_all)──▶ Closed (handle closed, handler told, deleted later)
//
// Deadlines: each connection has one deadline and what it means (DeadlineKind); one timer per
// server sweeps the list (habit 6). Deletion is deferred to the server's idle step, as is the
// step from one request to the next (habit 2).

#include "core/net/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <vector>

#include "core/uv_handle.hpp"

namespace edgeward::http {

namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;
constexpr std::chrono::milliseconds kLinger{2000};

void append_json_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code) {
  std::string out = "{\"error\":{\"message\":\"";
  append_json_escaped(out, message);
  out += "\",\"type\":\"";
  append_json_escaped(out, type);
  out += "\",\"code\":\"";
  append_json_escaped(out, code);
  out += "\",\"param\":null}}";
  return out;
}

void HttpApp::make_error(int status, const Error& error, const RequestHead*, ResponseHead& out_head,
                         std::string& out_body) {
  out_head.status = status;
  out_head.headers.add("Content-Type", "application/json");
  if (status == 413) {
    out_head.headers.add("Edgeward-Reason", "POLICY.BODY_TOO_LARGE");
    out_body = openai_error_body("blocked by edgeward: POLICY.BODY_TOO_LARGE (limits)",
                                 "edgeward_block", "POLICY.BODY_TOO_LARGE");
    return;
  }
  out_body = openai_error_body(error.message, "edgeward_error", error.code);
}

Result<sockaddr_storage> parse_socket_address(std::string_view address) {
  sockaddr_storage ss{};
  std::string host;
  std::string_view port_text;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return make_error("listen.bad_address", "expected [v6-address]:port");
    }
    host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error("listen.bad_address", "expected host:port");
    }
    host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return make_error("listen.bad_address", "bad port number");
  }
  if (host == "localhost") host = "127.0.0.1";
  if (host.empty()) host = "0.0.0.0";
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (uv_ip4_addr(host.c_str(), static_cast<int>(port), v4) == 0) return ss;
  ss = sockaddr_storage{};
  if (uv_ip6_addr(host.c_str(), static_cast<int>(port), v6) == 0) return ss;
  return make_error("listen.bad_address", "not an IP address (names are not resolved)");
}

class ServerConnection;

class HttpServer::Impl {
 public:
  Impl(uv_loop_t* loop, HttpApp& app, ServerLimits limits) : loop_(loop), app_(app) {
    // Failing to init a timer or idle handle means the loop is unusable; the listen() that
    // follows fails the same way and reports it.
    if (sweep_.init(uv_timer_init, loop, this)) uv_unref(sweep_.handle());
    (void)deferred_.init(uv_idle_init, loop, this);
    set_limits(limits);
  }
  ~Impl();

  Status listen(std::string_view address, bool reuse_port);
  void set_limits(const ServerLimits& limits);
  void on_connection(int status);
  void defer(ServerConnection* c);
  void run_deferred();
  void sweep();
  void drain(std::function<void()> on_drained);
  void close_all();
  void check_drained();
  void connection_closed(ServerConnection* c);

  uv_loop_t* loop_;
  HttpApp& app_;
  ServerLimits limits_;
  uv::Tcp tcp_listener_;
  uv::Pipe pipe_listener_;
  bool listening_ = false;
  uv::Timer sweep_;
  uv::Idle deferred_;
  bool deferred_active_ = false;
  std::vector<ServerConnection*> deferred_list_;
  std::vector<ServerConnection*> dead_;
  ServerConnection* head_ = nullptr;  // intrusive list of live connections
  std::size_t open_ = 0;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::array<char, kReadBufferSize> read_buffer_{};
  ServerStats stats_;
  Gauge* connection_gauge_ = nullptr;
};

// One HTTP connection: the parser's sink, the application's Responder.
class ServerConnection final : public ParserSink, public Responder {
 public:
  enum class State { Waiting, ReadingHead, InRequest, Closing, Closed };
  enum class DeadlineKind { None, Idle, Header, BodyStall, WriteStall, Linger };

  ServerConnection(HttpServer::Impl& server, const ServerLimits& limits)
      : server_(server),
        limits_(limits),
        parser_(ParseMode::Request, *this, HttpParser::Limits{limits.max_header_bytes}) {}
  ~ServerConnection() override { assert(state_ == State::Closed); }

  Status accept(uv_stream_t* listener, bool is_pipe);

  // libuv entry points.
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_write_done(int status);
  void on_shutdown_done();

  // Server entry points.
  void advance();  // deferred: next request, or close
  void on_deadline(std::uint64_t now);
  void start_graceful_close();
  void close_now();
  bool idle() const { return state_ == State::Waiting && !handler_; }
  void mark_close_after_response() { close_after_response_ = true; }
  void refuse(int status, const Error& error) { fail(status, error); }

  State state() const { return state_; }
  std::uint64_t deadline() const { return deadline_; }

  // ParserSink
  ParserAction on_request_head(RequestHead&& head, const BodyFraming& framing) override;
  ParserAction on_body(std::string_view bytes) override;
  ParserAction on_message_complete() override;

  // Responder
  void send_head(ResponseHead& head, std::optional<std::uint64_t> content_length) override;
  void send_body(std::string_view bytes) override;
  void end() override;
  void respond(ResponseHead& head, std::string_view body) override;
  void abort() override {
    if (state_ == State::Closed) return;
    response_done_ = true;
    broken_ = true;
    server_.defer(this);
  }
  std::size_t pending_write_bytes() const override {
    return out_.size() + (inflight_ != nullptr ? inflight_->buf.size() : 0);
  }
  bool head_sent() const override { return head_queued_; }
  void pause_request_body() override {
    ++read_pauses_;
    update_read_state();
  }
  void resume_request_body() override {
    assert(read_pauses_ > 0);
    if (read_pauses_ > 0) --read_pauses_;
    update_read_state();
  }

  ServerConnection* prev_ = nullptr;
  ServerConnection* next_ = nullptr;
  bool deferred_ = false;

 private:
  struct WriteOp {
    uv_write_t req;
    std::string buf;
    ServerConnection* owner;
  };
  struct ShutdownOp {
    uv_shutdown_t req;
    ServerConnection* owner;
  };

  void transition(State to);
  void process_input(std::string_view data, bool from_buffer);
  void fail(int status, const Error& error);
  void write_iov(uv_buf_t* bufs, unsigned n);
  void flush();
  void update_read_state();
  void set_deadline(DeadlineKind kind, std::chrono::milliseconds after);
  void tell_handler_gone();
  void schedule_advance();
  uv_stream_t* stream() const { return is_pipe_ ? pipe_.stream() : tcp_.stream(); }

  HttpServer::Impl& server_;
  ServerLimits limits_;
  HttpParser parser_;
  uv::Tcp tcp_;
  uv::Pipe pipe_;
  bool is_pipe_ = false;
  State state_ = State::Waiting;

  std::unique_ptr<RequestHandler> handler_;
  std::optional<RequestHead> error_context_;  // method/target kept for error responses
  bool request_done_ = false;
  bool response_done_ = false;
  bool head_queued_ = false;
  bool head_written_ = false;
  bool chunked_out_ = false;
  bool suppress_body_ = false;
  bool close_after_response_ = false;
  bool request_keep_alive_ = true;
  bool is_head_method_ = false;
  bool http10_ = false;
  bool peer_eof_ = false;
  bool reading_ = false;
  bool above_high_ = false;
  bool broken_ = false;  // a write failed inside an application call: close at the next step
  std::uint64_t body_received_ = 0;
  std::optional<Error> body_error_;
  int read_pauses_ = 0;

  std::string head_buf_;  // serialized response head, written with the first body bytes
  std::string in_buf_;    // received bytes not parsed yet (pipelined requests)
  std::string out_;       // response bytes the socket did not take yet
  WriteOp* inflight_ = nullptr;
  ShutdownOp* shutdown_ = nullptr;

  std::uint64_t deadline_ = 0;
  DeadlineKind deadline_kind_ = DeadlineKind::None;
};

// ---------------------------------------------------------------------------------------------
// Connection

void ServerConnection::transition(State to) {
  // The allowed edges of the state machine at the top of this file.
  [[maybe_unused]] const bool allowed =
      (state_ == State::Waiting && (to == State::ReadingHead || to == State::InRequest ||
                                    to == State::Closing || to == State::Closed)) ||
      (state_ == State::ReadingHead &&
       (to == State::InRequest || to == State::Closing || to == State::Closed)) ||
      (state_ == State::InRequest &&
       (to == State::Waiting || to == State::Closing || to == State::Closed)) ||
      (state_ == State::Closing && to == State::Closed);
  assert(allowed);
  state_ = to;
}

Status ServerConnection::accept(uv_stream_t* listener, bool is_pipe) {
  is_pipe_ = is_pipe;
  Status st = is_pipe ? pipe_.init(uv_pipe_init, server_.loop_, this, 0)
                      : tcp_.init(uv_tcp_init, server_.loop_, this);
  if (!st) return st;
  int rc = uv_accept(listener, stream());
  if (rc != 0) return uv::uv_error(rc, "accept");
  if (!is_pipe) uv_tcp_nodelay(tcp_.get(), 1);
  set_deadline(DeadlineKind::Header, limits_.header_timeout);
  update_read_state();
  return {};
}

void ServerConnection::set_deadline(DeadlineKind kind, std::chrono::milliseconds after) {
  deadline_kind_ = kind;
  deadline_ = kind == DeadlineKind::None
                  ? 0
                  : uv_now(server_.loop_) + static_cast<std::uint64_t>(after.count());
}

void ServerConnection::update_read_state() {
  if (state_ == State::Closed) return;
  bool want = false;
  if (peer_eof_) {
    want = false;
  } else if (state_ == State::Closing) {
    want = shutdown_ != nullptr || (inflight_ == nullptr && out_.empty());  // discard input
  } else if (state_ == State::InRequest && !request_done_) {
    want = read_pauses_ == 0;
    // A body stalled by our own pause (the upstream is slow) is not the client's fault.
    if (!want && deadline_kind_ == DeadlineKind::BodyStall) {
      set_deadline(DeadlineKind::None, {});
    } else if (want && deadline_kind_ == DeadlineKind::None) {
      set_deadline(DeadlineKind::BodyStall, limits_.idle_timeout);
    }
  } else if (state_ == State::InRequest) {
    // Only pipelined bytes arrive now: keep a bounded amount, and keep reading so that a client
    // that goes away is noticed.
    want = in_buf_.size() < limits_.max_header_bytes &&
           pending_write_bytes() < limits_.write_high_watermark;
  } else {
    want = true;
  }
  if (want && !reading_) {
    int rc = uv_read_start(
        stream(),
        [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
          auto* c = static_cast<ServerConnection*>(h->data);
          auto& s = c->server_;
          // One read buffer per server: every read is consumed (or its rest copied) before
          // the next one, so connections never hold 64 KiB each while idle.
          *buf = uv_buf_init(s.read_buffer_.data(), static_cast<unsigned>(s.read_buffer_.size()));
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
          if (s->data != nullptr) static_cast<ServerConnection*>(s->data)->on_read(nread, buf);
        });
    reading_ = rc == 0;
  } else if (!want && reading_) {
    uv_read_stop(stream());
    reading_ = false;
  }
}

void ServerConnection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0) return;
  if (nread < 0) {
    peer_eof_ = true;
    reading_ = false;
    uv_read_stop(stream());
    if (nread != UV_EOF) {
      close_now();
      return;
    }
    switch (state_) {
      case State::Waiting:
      case State::ReadingHead:
      case State::Closing:
        close_now();
        return;
      case State::InRequest:
        if (!request_done_) {
          close_now();  // the request body was cut off: nothing sensible can be answered
        } else {
          close_after_response_ = true;  // a half-closed client may still read the answer
        }
        return;
      case State::Closed:
        return;
    }
    return;
  }
  std::string_view data(buf->base, static_cast<std::size_t>(nread));
  if (state_ == State::Closing) return;  // lingering: discard
  if (state_ == State::Waiting) {
    transition(State::ReadingHead);
    set_deadline(DeadlineKind::Header, limits_.header_timeout);
  } else if (state_ == State::InRequest && !request_done_) {
    set_deadline(DeadlineKind::BodyStall, limits_.idle_timeout);
  }
  if (!in_buf_.empty() || (state_ == State::InRequest && request_done_)) {
    in_buf_.append(data);
    if (state_ != State::InRequest || !request_done_) process_input(in_buf_, true);
  } else {
    process_input(data, false);
  }
  update_read_state();
}

void ServerConnection::process_input(std::string_view data, bool from_buffer) {
  std::size_t used = 0;
  while (used < data.size() && (state_ == State::ReadingHead || state_ == State::Waiting ||
                                (state_ == State::InRequest && !request_done_))) {
    if (state_ == State::Waiting) {
      transition(State::ReadingHead);
      set_deadline(DeadlineKind::Header, limits_.header_timeout);
    }
    auto r = parser_.execute(data.substr(used));
    if (!r) {
      if (body_error_) {
        fail(413, *body_error_);
      } else if (r.error().code == "http.callback_abort" && state_ != State::InRequest) {
        return;  // on_request_head already failed the connection
      } else {
        fail(r.error().code == "http.header_too_large" ? 431 : 400, r.error());
      }
      return;
    }
    used += *r;
    if (*r == 0) break;
    if (state_ == State::InRequest && request_done_) break;
  }
  if (state_ == State::Closing || state_ == State::Closed) return;
  if (from_buffer) {
    in_buf_.erase(0, used);
  } else if (used < data.size()) {
    in_buf_.append(data.substr(used));
  }
}

ParserAction ServerConnection::on_request_head(RequestHead&& head, const BodyFraming& framing) {
  transition(State::InRequest);
  ++server_.stats_.requests;
  request_done_ = false;
  response_done_ = false;
  head_queued_ = head_written_ = chunked_out_ = suppress_body_ = false;
  body_received_ = 0;
  body_error_.reset();
  request_keep_alive_ = framing.keep_alive;
  http10_ = head.version_minor == 0;
  is_head_method_ = head.method == "HEAD";
  if (!framing.keep_alive || http10_) close_after_response_ = true;
  set_deadline(DeadlineKind::BodyStall, limits_.idle_timeout);

  if (framing.upgrade) {
    fail(501, make_error("http.upgrade_unsupported", "protocol upgrades are not supported"));
    return ParserAction::Abort;
  }
  // llhttp accepts codings before the final "chunked" ("gzip, chunked"); a gateway that
  // inspects bodies cannot forward what it cannot read, so only plain chunked is accepted.
  if (auto te = head.headers.get("Transfer-Encoding"); te && !iequals(*te, "chunked")) {
    fail(400,
         make_error("http.bad_transfer_encoding", "only Transfer-Encoding: chunked is accepted"));
    return ParserAction::Abort;
  }
  if (framing.content_length && *framing.content_length > limits_.max_request_body) {
    fail(413, make_error("http.body_too_large", "request body exceeds limits.max_request_body"));
    return ParserAction::Abort;
  }
  const bool expect = framing.expect_continue && framing.has_body() && !http10_;
  handler_ = server_.app_.on_request(std::move(head), framing, *this);
  assert(handler_ != nullptr);
  if (state_ != State::InRequest) return ParserAction::Abort;  // the app closed us
  if (expect) {
    if (!head_queued_) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      uv_buf_t b =
          uv_buf_init(const_cast<char*>(kContinue.data()), static_cast<unsigned>(kContinue.size()));
      write_iov(&b, 1);
    } else {
      // Answered before the body was sent: the client may or may not send it; close after.
      close_after_response_ = true;
    }
  }
  if (!framing.has_body()) return ParserAction::Continue;
  return ParserAction::Continue;
}

ParserAction ServerConnection::on_body(std::string_view bytes) {
  body_received_ += bytes.size();
  if (body_received_ > limits_.max_request_body) {
    body_error_ = make_error("http.body_too_large", "request body exceeds limits.max_request_body");
    return ParserAction::Abort;
  }
  if (handler_) handler_->on_request_body(bytes);
  return ParserAction::Continue;
}

ParserAction ServerConnection::on_message_complete() {
  request_done_ = true;
  set_deadline(DeadlineKind::None, {});
  if (handler_) handler_->on_request_end();
  if (response_done_) schedule_advance();
  return ParserAction::Continue;
}

void ServerConnection::schedule_advance() {
  server_.defer(this);
}

void ServerConnection::advance() {
  if (state_ == State::Closed) return;
  if (broken_) {
    close_now();
    return;
  }
  if (state_ == State::InRequest && request_done_ && response_done_) {
    handler_.reset();
    if (close_after_response_ || server_.draining_ || !request_keep_alive_) {
      start_graceful_close();
      return;
    }
    transition(State::Waiting);
    set_deadline(DeadlineKind::Idle, limits_.idle_timeout);
    limits_ = server_.limits_;
    if (!in_buf_.empty()) process_input(in_buf_, true);
    if (state_ != State::Closed) update_read_state();
    return;
  }
  if (state_ == State::Closing && inflight_ == nullptr && out_.empty() && shutdown_ == nullptr) {
    start_graceful_close();
  }
}

void ServerConnection::fail(int status, const Error& error) {
  ++server_.stats_.errors_sent;
  if (handler_ && !response_done_) tell_handler_gone();
  if (!head_queued_ && state_ != State::Closing && state_ != State::Closed) {
    ResponseHead head;
    std::string body;
    server_.app_.make_error(status, error, nullptr, head, body);
    close_after_response_ = true;
    head.headers.remove("Content-Length");
    head.headers.add("Content-Length", std::to_string(body.size()));
    head.headers.add("Connection", "close");
    head_buf_.clear();
    serialize(head, head_buf_);
    uv_buf_t bufs[2] = {uv_buf_init(head_buf_.data(), static_cast<unsigned>(head_buf_.size())),
                        uv_buf_init(body.data(), static_cast<unsigned>(body.size()))};
    write_iov(bufs, 2);
    head_buf_.clear();
    head_queued_ = head_written_ = true;
    response_done_ = true;
  }
  start_graceful_close();
}

void ServerConnection::tell_handler_gone() {
  // The handler must stop using the Responder; it is destroyed later with the connection.
  response_done_ = true;
  if (handler_) handler_->on_client_gone();
}

void ServerConnection::send_head(ResponseHead& head, std::optional<std::uint64_t> content_length) {
  assert(!head_queued_ && !response_done_);
  if (state_ == State::Closed || state_ == State::Closing) return;
  const int s = head.status;
  const bool no_body_status = (s >= 100 && s < 200) || s == 204 || s == 304;
  suppress_body_ = no_body_status || is_head_method_;
  if (server_.draining_) close_after_response_ = true;
  if (no_body_status) {
    // No framing headers at all.
  } else if (content_length) {
    head.headers.add("Content-Length", std::to_string(*content_length));
  } else if (http10_) {
    close_after_response_ = true;  // the end of the body is the end of the connection
  } else {
    head.headers.add("Transfer-Encoding", "chunked");
    chunked_out_ = !is_head_method_;
  }
  if (close_after_response_) head.headers.add("Connection", "close");
  head.version_minor = 1;
  head_buf_.clear();
  serialize(head, head_buf_);
  head_queued_ = true;
}

void ServerConnection::send_body(std::string_view bytes) {
  assert(head_queued_ && !response_done_);
  if (state_ == State::Closed || state_ == State::Closing || suppress_body_ || bytes.empty()) {
    return;
  }
  uv_buf_t bufs[4];
  unsigned n = 0;
  if (!head_written_) {
    bufs[n++] = uv_buf_init(head_buf_.data(), static_cast<unsigned>(head_buf_.size()));
  }
  char size_line[24];
  if (chunked_out_) {
    auto [p, ec] = std::to_chars(size_line, size_line + 16, bytes.size(), 16);
    (void)ec;
    *p++ = '\r';
    *p++ = '\n';
    bufs[n++] = uv_buf_init(size_line, static_cast<unsigned>(p - size_line));
  }
  bufs[n++] = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
  if (chunked_out_) bufs[n++] = uv_buf_init(const_cast<char*>("\r\n"), 2);
  write_iov(bufs, n);
  if (!head_written_) {
    head_written_ = true;
    head_buf_.clear();
  }
}

void ServerConnection::end() {
  assert(head_queued_ && !response_done_);
  if (state_ == State::Closed || state_ == State::Closing) return;
  uv_buf_t bufs[2];
  unsigned n = 0;
  if (!head_written_) {
    bufs[n++] = uv_buf_init(head_buf_.data(), static_cast<unsigned>(head_buf_.size()));
  }
  if (chunked_out_) bufs[n++] = uv_buf_init(const_cast<char*>("0\r\n\r\n"), 5);
  if (n > 0) write_iov(bufs, n);
  head_written_ = true;
  head_buf_.clear();
  response_done_ = true;
  if (request_done_) schedule_advance();
  update_read_state();
}

void ServerConnection::respond(ResponseHead& head, std::string_view body) {
  send_head(head, body.size());
  send_body(body);
  end();
}

void ServerConnection::write_iov(uv_buf_t* bufs, unsigned n) {
  if (state_ == State::Closed || broken_) return;
  unsigned first = 0;
  if (inflight_ == nullptr && out_.empty()) {
    // Fast path: straight to the kernel, no copy.
    int rc = uv_try_write(stream(), bufs, n);
    if (rc < 0 && rc != UV_EAGAIN) {
      // Possibly inside a Responder call: the handler is told at the next loop step.
      broken_ = true;
      server_.defer(this);
      return;
    }
    std::size_t written = rc > 0 ? static_cast<std::size_t>(rc) : 0;
    while (first < n && written >= bufs[first].len) {
      written -= bufs[first].len;
      ++first;
    }
    if (first < n && written > 0) {
      out_.append(bufs[first].base + written, bufs[first].len - written);
      ++first;
    }
  }
  for (unsigned i = first; i < n; ++i) out_.append(bufs[i].base, bufs[i].len);
  // Crossing the high watermark is noted here, where bytes are queued, so that falling below
  // the low one is always reported (the application may have paused its source on it).
  if (pending_write_bytes() >= limits_.write_high_watermark) above_high_ = true;
  flush();
}

void ServerConnection::flush() {
  if (inflight_ != nullptr || out_.empty() || state_ == State::Closed) return;
  inflight_ = new WriteOp{};
  inflight_->owner = this;
  inflight_->buf.swap(out_);
  uv_buf_t b = uv_buf_init(inflight_->buf.data(), static_cast<unsigned>(inflight_->buf.size()));
  int rc = uv_write(&inflight_->req, stream(), &b, 1, [](uv_write_t* req, int status) {
    auto* op = reinterpret_cast<WriteOp*>(req);
    ServerConnection* owner = op->owner;
    delete op;
    if (owner != nullptr) {
      owner->inflight_ = nullptr;
      owner->on_write_done(status);
    }
  });
  if (rc != 0) {
    delete inflight_;
    inflight_ = nullptr;
    broken_ = true;
    server_.defer(this);
    return;
  }
  if (deadline_kind_ == DeadlineKind::None || deadline_kind_ == DeadlineKind::WriteStall) {
    set_deadline(DeadlineKind::WriteStall, limits_.idle_timeout);
  }
}

void ServerConnection::on_write_done(int status) {
  if (status < 0) {
    tell_handler_gone();
    close_now();
    return;
  }
  if (deadline_kind_ == DeadlineKind::WriteStall) set_deadline(DeadlineKind::None, {});
  flush();
  if (state_ == State::Closed) return;
  if (above_high_ && pending_write_bytes() <= limits_.write_low_watermark) {
    above_high_ = false;
    if (handler_ && !response_done_) handler_->on_response_drained();
  }
  if (state_ == State::Closing && inflight_ == nullptr && out_.empty()) {
    start_graceful_close();
    return;
  }
  update_read_state();
}

void ServerConnection::start_graceful_close() {
  if (state_ == State::Closed) return;
  if (state_ != State::Closing) transition(State::Closing);
  if (handler_ && !response_done_) tell_handler_gone();
  if (inflight_ != nullptr || !out_.empty()) {
    set_deadline(DeadlineKind::Linger, limits_.idle_timeout);
    return;  // on_write_done comes back here
  }
  if (shutdown_ != nullptr) return;
  shutdown_ = new ShutdownOp{};
  shutdown_->owner = this;
  int rc = uv_shutdown(&shutdown_->req, stream(), [](uv_shutdown_t* req, int) {
    auto* op = reinterpret_cast<ShutdownOp*>(req);
    ServerConnection* owner = op->owner;
    delete op;
    if (owner != nullptr) {
      owner->shutdown_ = nullptr;
      owner->on_shutdown_done();
    }
  });
  if (rc != 0) {
    delete shutdown_;
    shutdown_ = nullptr;
    close_now();
    return;
  }
  // Read (and drop) what the client still sends, so that closing does not reset the
  // connection before it has read our answer; stop at EOF or after the linger time.
  set_deadline(DeadlineKind::Linger, kLinger);
  update_read_state();
}

void ServerConnection::on_shutdown_done() {
  if (state_ != State::Closing) return;
  if (peer_eof_) close_now();
}

void ServerConnection::close_now() {
  if (state_ == State::Closed) return;
  if (handler_ && !response_done_) tell_handler_gone();
  state_ = State::Closed;  // from any state (see the diagram)
  if (inflight_ != nullptr) inflight_->owner = nullptr;
  if (shutdown_ != nullptr) shutdown_->owner = nullptr;
  inflight_ = nullptr;
  shutdown_ = nullptr;
  reading_ = false;
  set_deadline(DeadlineKind::None, {});
  tcp_.close();
  pipe_.close();
  server_.connection_closed(this);
}

void ServerConnection::on_deadline(std::uint64_t now) {
  if (deadline_ == 0 || now < deadline_) return;
  const DeadlineKind kind = deadline_kind_;
  set_deadline(DeadlineKind::None, {});
  switch (kind) {
    case DeadlineKind::None:
      return;
    case DeadlineKind::Idle:
      close_now();
      return;
    case DeadlineKind::Header:
      if (state_ == State::Waiting && !parser_.in_message()) {
        close_now();  // a fresh connection that never sent a byte
        return;
      }
      fail(408, make_error("http.header_timeout", "request head not received in time"));
      return;
    case DeadlineKind::BodyStall:
      if (head_queued_) {
        tell_handler_gone();
        close_now();
      } else {
        fail(408, make_error("http.body_timeout", "request body stalled"));
      }
      return;
    case DeadlineKind::WriteStall:
    case DeadlineKind::Linger:
      close_now();
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Server

HttpServer::Impl::~Impl() {
  close_all();
  for (ServerConnection* c : dead_) delete c;
  dead_.clear();
}

void HttpServer::Impl::set_limits(const ServerLimits& limits) {
  limits_ = limits;
  if (limits_.write_low_watermark > limits_.write_high_watermark) {
    limits_.write_low_watermark = limits_.write_high_watermark / 2;
  }
  // The sweep runs often enough for the shortest timeout to be honoured within a quarter of it.
  auto shortest = std::min({limits_.header_timeout, limits_.idle_timeout, kLinger});
  auto period = std::clamp<std::int64_t>(shortest.count() / 4, 20, 1000);
  if (sweep_.is_open()) {
    uv_timer_start(
        sweep_.get(),
        [](uv_timer_t* t) {
          if (t->data != nullptr) static_cast<Impl*>(t->data)->sweep();
        },
        static_cast<std::uint64_t>(period), static_cast<std::uint64_t>(period));
  }
}

Status HttpServer::Impl::listen(std::string_view address, bool reuse_port) {
  constexpr std::string_view kUnix = "unix:";
  int rc = 0;
  if (address.substr(0, kUnix.size()) == kUnix) {
    std::string path(address.substr(kUnix.size()));
    if (path.empty()) return make_error("listen.bad_address", "empty unix socket path");
    if (Status st = pipe_listener_.init(uv_pipe_init, loop_, this, 0); !st) return st;
    ::unlink(path.c_str());  // a stale socket from a previous run
    rc = uv_pipe_bind(pipe_listener_.get(), path.c_str());
    if (rc != 0) return uv::uv_error(rc, "bind unix socket");
    ::chmod(path.c_str(), 0660);
    rc = uv_listen(pipe_listener_.stream(), 511, [](uv_stream_t* s, int status) {
      if (s->data != nullptr) static_cast<Impl*>(s->data)->on_connection(status);
    });
    if (rc != 0) return uv::uv_error(rc, "listen");
    listening_ = true;
    return {};
  }
  auto addr = parse_socket_address(address);
  if (!addr) return addr.error();
  if (Status st =
          tcp_listener_.init(uv_tcp_init_ex, loop_, this, static_cast<unsigned>(addr->ss_family));
      !st) {
    return st;
  }
  if (reuse_port) {
    uv_os_fd_t fd;
    rc = uv_fileno(tcp_listener_.handle(), &fd);
    if (rc != 0) return uv::uv_error(rc, "listener fd");
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      return uv::uv_error(uv_translate_sys_error(errno), "SO_REUSEPORT");
    }
  }
  rc = uv_tcp_bind(tcp_listener_.get(), reinterpret_cast<const sockaddr*>(&*addr), 0);
  if (rc != 0) return uv::uv_error(rc, "bind");
  rc = uv_listen(tcp_listener_.stream(), 511, [](uv_stream_t* s, int status) {
    if (s->data != nullptr) static_cast<Impl*>(s->data)->on_connection(status);
  });
  if (rc != 0) return uv::uv_error(rc, "listen");
  listening_ = true;
  return {};
}

void HttpServer::Impl::on_connection(int status) {
  if (status < 0 || draining_) return;
  const bool is_pipe = pipe_listener_.is_open();
  uv_stream_t* listener = is_pipe ? pipe_listener_.stream() : tcp_listener_.stream();
  auto* c = new ServerConnection(*this, limits_);
  // Link first so that close_now() (on any failure below) finds it in the list.
  c->next_ = head_;
  if (head_ != nullptr) head_->prev_ = c;
  head_ = c;
  ++open_;
  ++stats_.connections_accepted;
  if (connection_gauge_ != nullptr) connection_gauge_->add(1);
  if (Status st = c->accept(listener, is_pipe); !st) {
    c->close_now();
    return;
  }
  if (open_ > limits_.max_connections) {
    ++stats_.connections_refused;
    // Answer 503 at once and close: the client learns why instead of hanging in the backlog.
    c->refuse(503, make_error("http.too_many_connections", "limits.max_connections reached"));
  }
}

void HttpServer::Impl::defer(ServerConnection* c) {
  if (c->deferred_) return;
  c->deferred_ = true;
  deferred_list_.push_back(c);
  if (!deferred_active_ && deferred_.is_open()) {
    deferred_active_ = true;
    uv_idle_start(deferred_.get(), [](uv_idle_t* h) {
      if (h->data != nullptr) static_cast<Impl*>(h->data)->run_deferred();
    });
  }
}

void HttpServer::Impl::run_deferred() {
  // Work scheduled while running is picked up in the next round of this loop.
  while (!deferred_list_.empty()) {
    std::vector<ServerConnection*> batch;
    batch.swap(deferred_list_);
    for (ServerConnection* c : batch) {
      c->deferred_ = false;
      if (c->state() != ServerConnection::State::Closed) c->advance();
    }
  }
  std::vector<ServerConnection*> dead;
  dead.swap(dead_);
  for (ServerConnection* c : dead) delete c;
  deferred_active_ = false;
  if (deferred_.is_open()) uv_idle_stop(deferred_.get());
  check_drained();
}

void HttpServer::Impl::connection_closed(ServerConnection* c) {
  if (c->prev_ != nullptr) c->prev_->next_ = c->next_;
  if (c->next_ != nullptr) c->next_->prev_ = c->prev_;
  if (head_ == c) head_ = c->next_;
  c->prev_ = c->next_ = nullptr;
  --open_;
  if (connection_gauge_ != nullptr) connection_gauge_->sub(1);
  dead_.push_back(c);
  if (!deferred_active_ && deferred_.is_open()) {
    deferred_active_ = true;
    uv_idle_start(deferred_.get(), [](uv_idle_t* h) {
      if (h->data != nullptr) static_cast<Impl*>(h->data)->run_deferred();
    });
  }
}

void HttpServer::Impl::sweep() {
  const std::uint64_t now = uv_now(loop_);
  for (ServerConnection* c = head_; c != nullptr;) {
    ServerConnection* next = c->next_;  // on_deadline may unlink c
    if (c->deadline() != 0 && c->deadline() <= now) c->on_deadline(now);
    c = next;
  }
}

void HttpServer::Impl::drain(std::function<void()> on_drained) {
  draining_ = true;
  on_drained_ = std::move(on_drained);
  tcp_listener_.close();
  pipe_listener_.close();
  listening_ = false;
  for (ServerConnection* c = head_; c != nullptr;) {
    ServerConnection* next = c->next_;
    if (c->idle()) {
      c->close_now();
    } else {
      c->mark_close_after_response();
    }
    c = next;
  }
  check_drained();
  if (on_drained_ && !deferred_active_ && deferred_.is_open()) {
    deferred_active_ = true;
    uv_idle_start(deferred_.get(), [](uv_idle_t* h) {
      if (h->data != nullptr) static_cast<Impl*>(h->data)->run_deferred();
    });
  }
}

void HttpServer::Impl::check_drained() {
  if (draining_ && open_ == 0 && dead_.empty() && on_drained_) {
    auto cb = std::move(on_drained_);
    on_drained_ = nullptr;
    cb();
  }
}

void HttpServer::Impl::close_all() {
  tcp_listener_.close();
  pipe_listener_.close();
  while (head_ != nullptr) head_->close_now();
}

// ---------------------------------------------------------------------------------------------

HttpServer::HttpServer(uv_loop_t* loop, HttpApp& app, ServerLimits limits)
    : impl_(std::make_unique<Impl>(loop, app, limits)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen(std::string_view address, bool reuse_port) {
  return impl_->listen(address, reuse_port);
}

std::uint16_t HttpServer::local_port() const {
  if (!impl_->tcp_listener_.is_open()) return 0;
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(impl_->tcp_listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return 0;
  }
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void HttpServer::set_limits(const ServerLimits& limits) {
  impl_->set_limits(limits);
}
void HttpServer::set_connection_gauge(Gauge* gauge) {
  impl_->connection_gauge_ = gauge;
}
const ServerLimits& HttpServer::limits() const {
  return impl_->limits_;
}
void HttpServer::drain(std::function<void()> on_drained) {
  impl_->drain(std::move(on_drained));
}
void HttpServer::close_all() {
  impl_->close_all();
}

ServerStats HttpServer::stats() const {
  ServerStats s = impl_->stats_;
  s.open_connections = impl_->open_;
  return s;
}

}  // namespace edgeward::http
