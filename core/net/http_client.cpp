// The upstream HTTP/1.1 client: UpstreamPool, its connections, and the Exchange handles.
//
// UpstreamConnection state machine (one per TCP connection; asserted in transitions):
//
//   Resolving ──dns ok──▶ Connecting ──tcp ok──▶ [Handshaking ──tls ok──▶] Active
//       │                     │  (next address on refusal)      │            │ ▲
//       └───────── failure / connect deadline ─────────────────┴──▶ Closing   │ │
//                                                                            ▼ │
//        Active ──response complete, request written, keep-alive──▶ Idle ────┘
//        Active ──response complete, request bytes still in flight──▶ Draining ──written──▶ Idle
//        Idle ──EOF, stray bytes, expiry, pool retired, over max_idle──▶ Closing
//        any ──failure / abort / response timeout──▶ Closing ──uv close callback──▶ deleted
//
// Request side of an Active exchange: the head is held until its framing is known (a
// Content-Length or Transfer-Encoding in the head, the first write_body, or the whole body),
// then sent together with whatever body is queued. Response side: HttpParser in response mode;
// 1xx heads are skipped; body bytes go straight from the read buffer to the handler, or into
// `held_body_` while the caller has paused the response.
//
// Lifetime: a UpstreamConnection is deleted only in its TCP handle's close callback, so that libuv
// callbacks and a handler that destroys its Exchange mid-callback never touch freed memory.
// Every UpstreamConnection holds a strong reference to the pool's Impl; the caller's UpstreamPool
// holds another. Deadlines (connect, response, idle expiry) are plain numbers swept by one timer
// per pool armed for the earliest one (no timer per connection).

#include "core/net/http_client.hpp"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <optional>
#include <vector>

#include "core/net/http_parser.hpp"
#include "core/net/tls.hpp"
#include "core/uv_handle.hpp"

namespace edgeward::http {

namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;

// Deferred work flags of a connection, run from the pool's check handle.
constexpr unsigned kDeferSendHead = 1u << 0;
constexpr unsigned kDeferDeliverHeld = 1u << 1;
constexpr unsigned kDeferFailure = 1u << 2;

bool method_has_body_semantics(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

Error upstream_error(std::string code, const UpstreamTarget& t, std::string_view what) {
  return make_error(std::move(code), "upstream " + t.name + ": " + std::string(what));
}

// libuv initialisers that cannot fail on Linux (no syscall, no allocation) still return a code;
// a failure there means a broken loop, which no caller could handle.
void check_uv(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "edgeward: fatal: %s: %s\n", what, uv_strerror(rc));
    std::abort();
  }
}

}  // namespace

std::string_view to_string(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::dns:
      return "dns";
    case UpstreamFailure::connect_refused:
      return "connect_refused";
    case UpstreamFailure::connect_timeout:
      return "connect_timeout";
    case UpstreamFailure::tls:
      return "tls";
    case UpstreamFailure::response_timeout:
      return "response_timeout";
    case UpstreamFailure::reset:
      return "reset";
    case UpstreamFailure::bad_response:
      return "bad_response";
    case UpstreamFailure::bad_request:
      return "bad_request";
  }
  return "unknown";
}

Result<UpstreamTarget> parse_upstream_url(std::string_view url) {
  UpstreamTarget t;
  auto sep = url.find("://");
  if (sep == std::string_view::npos) {
    return make_error("upstream.bad_url", "upstream URL needs a scheme (http:// or https://)");
  }
  std::string_view scheme = url.substr(0, sep);
  if (iequals(scheme, "http")) {
    t.scheme = "http";
  } else if (iequals(scheme, "https")) {
    t.scheme = "https";
  } else {
    return make_error("upstream.bad_url", "upstream URL scheme must be http or https");
  }
  std::string_view rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return make_error("upstream.bad_url", "upstream URL must be scheme://host[:port]");
  }
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return make_error("upstream.bad_url", "unclosed [");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("upstream.bad_url", "junk after ]");
      port = after.substr(1);
      if (port.empty()) return make_error("upstream.bad_port", "empty port");
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return make_error("upstream.bad_port", "empty port");
  }
  if (host.empty()) return make_error("upstream.bad_url", "upstream URL has no host");
  if (host.find(':') != std::string_view::npos && rest.front() != '[') {
    return make_error("upstream.bad_url", "an IPv6 upstream host needs brackets: [::1]:8080");
  }
  t.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return make_error("upstream.bad_port", "upstream port must be 1..65535");
    }
    t.port = static_cast<std::uint16_t>(value);
  }
  return t;
}

class UpstreamConnection;
class UpstreamExchange;

// ---- the pool's shared internals ----------------------------------------------------------

class UpstreamPool::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(uv_loop_t* loop, UpstreamTarget target) : loop_(loop), target_(std::move(target)) {
    if (target_.port == 0) target_.port = target_.scheme == "https" ? 443 : 80;
    if (target_.tls.sni.empty()) target_.tls.sni = target_.host;
  }
  ~Impl();

  void init_handles();
  std::unique_ptr<Exchange> start(RequestHead head, ExchangeHandler& handler);
  void retire();
  void release_handles_if_unused();

  // Deadlines.
  void deadline_set(std::uint64_t at);
  void sweep();

  // Deferred work.
  void defer(UpstreamConnection* c);
  void run_deferred();
  void forget(UpstreamConnection* c);  // called by ~UpstreamConnection

  // Idle list.
  bool park(UpstreamConnection* c);  // false when the connection must close instead
  void unpark(UpstreamConnection* c);

  uv_loop_t* loop_;
  UpstreamTarget target_;
  std::shared_ptr<tls::TlsContext> tls_ctx_;
  std::optional<Error> tls_ctx_error_;
  bool tls_ctx_tried_ = false;
  bool retired_ = false;

  std::list<UpstreamConnection*> all_;
  std::vector<UpstreamConnection*> idle_;  // most recently parked last (reused first)
  std::vector<UpstreamConnection*> deferred_;

  uv::Timer sweep_timer_;
  std::uint64_t armed_for_ = 0;  // 0 = not armed
  uv::Check check_;
  uv::Idle idle_spin_;  // keeps the poll phase from blocking while deferred work waits
  bool handles_ready_ = false;

  UpstreamPoolStats stats_;
  std::array<char, kReadBufferSize> read_buf_;
  std::array<char, kReadBufferSize> plain_buf_;
};

// ---- one connection ------------------------------------------------------------------------

class UpstreamConnection final : public ParserSink {
 public:
  enum class State { Resolving, Connecting, Handshaking, Active, Draining, Idle, Closing };
  enum class Deadline { None, Connect, Response, IdleExpiry };
  enum class Framing { Undecided, None, Sized, Chunked };

  explicit UpstreamConnection(std::shared_ptr<UpstreamPool::Impl> pool)
      : pool_(std::move(pool)), parser_(ParseMode::Response, *this) {
    tcp_.data = this;
    connect_req_.data = this;
    self_ = pool_->all_.insert(pool_->all_.end(), this);
    pool_->stats_.connections_opened++;
  }
  ~UpstreamConnection() override {
    pool_->forget(this);
    pool_->all_.erase(self_);
  }

  State state() const { return state_; }
  bool has_exchange() const { return exchange_ != nullptr; }

  void open();
  void begin_exchange(UpstreamExchange* ex, RequestHead head, bool reused);

  // Exchange API (called by UpstreamExchange; never fires handler callbacks synchronously).
  // `owner`, when given, holds exactly `bytes` and may be taken instead of copied.
  void write_body(std::string_view bytes, bool last, std::string* owner = nullptr);
  std::size_t pending_write_bytes() const;
  // Bytes in the kernel's send queue not yet acknowledged by the upstream (SIOCOUTQ); one
  // system call, used only when a response deadline expires.
  std::size_t kernel_unacked() const;
  void pause_response();
  void resume_response();
  void abandon();  // the exchange was aborted or destroyed

  // Pool-driven events.
  void run_deferred();
  void on_deadline(std::uint64_t now);
  std::uint64_t deadline() const { return deadline_; }
  void close();

  unsigned deferred_ = 0;

 private:
  // ParserSink
  ParserAction on_response_head(ResponseHead&& head, const BodyFraming& framing) override;
  ParserAction on_body(std::string_view bytes) override;
  ParserAction on_message_complete() override;

  void set_deadline(Deadline kind, std::chrono::milliseconds after);
  void clear_deadline() {
    deadline_ = 0;
    deadline_kind_ = Deadline::None;
  }

  void start_dns();
  void connect_next();
  bool next_address();
  void on_connected();
  void become_active();
  void start_reading();
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_bytes(std::string_view plain);
  void on_eof(int status);

  // Sends the head once its framing is known, with the queued body bytes and then `tail`
  // (bytes of the current write_body call, not copied when the head can leave now; appended to
  // queued_ when it cannot).
  void try_send_head(std::string_view tail = {}, std::string* owner = nullptr);
  void send(const uv_buf_t* bufs, unsigned count);
  void on_write_done(int status);
  void maybe_drained();

  void finish_response();
  void settle_after_response();
  void fail(UpstreamFailure kind, Error error);
  void fail_later(UpstreamFailure kind, Error error);
  void schedule(unsigned flag) {
    deferred_ |= flag;
    pool_->defer(this);
  }
  bool try_replay();
  bool exchange_live(UpstreamExchange* ex) const { return exchange_ == ex && ex != nullptr; }
  ExchangeHandler* handler() const;

  std::shared_ptr<UpstreamPool::Impl> pool_;
  std::list<UpstreamConnection*>::iterator self_;
  State state_ = State::Resolving;
  uv_tcp_t tcp_{};
  bool tcp_open_ = false;
  bool reconnecting_ = false;  // the TCP handle is closing to try the next address
  uv_connect_t connect_req_{};
  struct DnsRequest {
    uv_getaddrinfo_t req;
    UpstreamConnection* conn;
  };
  DnsRequest* dns_ = nullptr;
  std::vector<sockaddr_storage> addrs_;
  std::size_t addr_index_ = 0;
  std::unique_ptr<tls::TlsSession> tls_;
  HttpParser parser_;

  std::uint64_t deadline_ = 0;
  Deadline deadline_kind_ = Deadline::None;
  // Unsent request bytes at the last Response deadline check (see on_deadline); reset when new
  // bytes are queued.
  std::size_t unsent_at_check_ = static_cast<std::size_t>(-1);

  // The current exchange.
  UpstreamExchange* exchange_ = nullptr;
  RequestHead head_;
  bool head_sent_ = false;
  Framing framing_ = Framing::Undecided;
  std::uint64_t content_length_ = 0;
  std::uint64_t body_written_ = 0;
  bool body_last_ = false;
  std::string queued_;  // body bytes accepted before the head went out (not yet framed)
  bool drained_wanted_ = false;
  bool write_failed_ = false;
  int writes_in_flight_ = 0;

  // A reused connection may have been closed by the upstream just as we picked it. Until the
  // first response byte, a request sent whole can be replayed once on a fresh connection.
  bool reused_ = false;
  bool response_started_ = false;
  bool replayable_ = false;
  std::string replay_body_;

  bool head_request_ = false;
  bool interim_ = false;
  const char* refusal_ = nullptr;  // why a head callback refused the response
  bool final_head_ = false;
  bool message_done_ = false;
  bool paused_ = false;
  std::string held_body_;
  bool held_end_ = false;
  bool stray_bytes_ = false;

  UpstreamFailure pending_kind_ = UpstreamFailure::reset;
  Error pending_error_;
};

// ---- the caller's handle -------------------------------------------------------------------

class UpstreamExchange final : public Exchange {
 public:
  explicit UpstreamExchange(ExchangeHandler& handler) : handler_(&handler) {}
  ~UpstreamExchange() override { abort(); }

  void write_body(std::string_view bytes, bool last) override {
    if (conn_ != nullptr && !finished_) conn_->write_body(bytes, last);
  }
  void write_whole_body(std::string&& body) override {
    if (conn_ != nullptr && !finished_) conn_->write_body(body, true, &body);
  }
  std::size_t pending_write_bytes() const override {
    return conn_ != nullptr ? conn_->pending_write_bytes() : 0;
  }
  void set_request_low_watermark(std::size_t bytes) override { low_watermark_ = bytes; }
  void pause_response() override {
    if (conn_ != nullptr && !finished_) conn_->pause_response();
  }
  void resume_response() override {
    if (conn_ != nullptr && !finished_) conn_->resume_response();
  }
  void abort() override {
    if (finished_) return;
    finished_ = true;
    UpstreamConnection* c = std::exchange(conn_, nullptr);
    if (c != nullptr) c->abandon();
  }
  bool finished() const override { return finished_; }

  // Called by the connection when the exchange ends: detaches both sides.
  void detach() {
    finished_ = true;
    conn_ = nullptr;
  }

  ExchangeHandler* handler_;
  UpstreamConnection* conn_ = nullptr;
  bool finished_ = false;
  std::size_t low_watermark_ = 0;  // see set_request_low_watermark
};

ExchangeHandler* UpstreamConnection::handler() const {
  return exchange_ != nullptr ? exchange_->handler_ : nullptr;
}

// ---- Impl ----------------------------------------------------------------------------------

UpstreamPool::Impl::~Impl() {
  assert(all_.empty());
  sweep_timer_.close();
  check_.close();
  idle_spin_.close();
}

void UpstreamPool::Impl::init_handles() {
  if (handles_ready_) return;
  check_uv(sweep_timer_.init(uv_timer_init, loop_, this).ok() ? 0 : UV_EINVAL, "pool timer");
  check_uv(check_.init(uv_check_init, loop_, this).ok() ? 0 : UV_EINVAL, "pool check");
  check_uv(idle_spin_.init(uv_idle_init, loop_, this).ok() ? 0 : UV_EINVAL, "pool idle");
  // The sweep timer alone must not keep a loop alive: connections do that.
  uv_unref(sweep_timer_.handle());
  uv_check_start(check_.get(), [](uv_check_t* h) {
    if (h->data != nullptr) static_cast<UpstreamPool::Impl*>(h->data)->run_deferred();
  });
  uv_unref(check_.handle());
  handles_ready_ = true;
}

std::unique_ptr<Exchange> UpstreamPool::Impl::start(RequestHead head, ExchangeHandler& handler) {
  init_handles();
  // The loop's clock is cached at the start of each iteration; a caller that did long work
  // first (inspecting a large body) would otherwise start its deadlines in the past.
  uv_update_time(loop_);
  auto ex = std::make_unique<UpstreamExchange>(handler);
  stats_.exchanges_started++;
  if (target_.scheme == "https" && !tls_ctx_tried_) {
    tls_ctx_tried_ = true;
    auto ctx = tls::TlsContext::client(target_.tls.verify, target_.tls.ca_file);
    if (ctx) {
      tls_ctx_ = std::move(ctx).value();
    } else {
      tls_ctx_error_ = ctx.error();
    }
  }
  UpstreamConnection* c = nullptr;
  while (!idle_.empty() && c == nullptr) {
    c = idle_.back();
    idle_.pop_back();
    if (c->state() != UpstreamConnection::State::Idle) c = nullptr;
  }
  bool reused = c != nullptr;
  if (reused) {
    stats_.connections_reused++;
  } else {
    c = new UpstreamConnection(shared_from_this());
  }
  c->begin_exchange(ex.get(), std::move(head), reused);
  if (!reused) c->open();
  return ex;
}

void UpstreamPool::Impl::retire() {
  retired_ = true;
  auto idle = std::move(idle_);
  idle_.clear();
  for (UpstreamConnection* c : idle) c->close();
  release_handles_if_unused();
}

// A retired pool whose connections are all closing needs its handles no more: close them now,
// while the loop certainly runs, rather than from the last connection's close callback, which
// may run inside a loop teardown that has already closed every handle.
void UpstreamPool::Impl::release_handles_if_unused() {
  if (!retired_ || !handles_ready_) return;
  for (UpstreamConnection* c : all_) {
    if (c->state() != UpstreamConnection::State::Closing) return;
  }
  handles_ready_ = false;
  armed_for_ = 0;
  sweep_timer_.close();
  check_.close();
  idle_spin_.close();
}

void UpstreamPool::Impl::deadline_set(std::uint64_t at) {
  if (!handles_ready_ || at == 0) return;
  if (armed_for_ != 0 && armed_for_ <= at) return;
  armed_for_ = at;
  std::uint64_t now = uv_now(loop_);
  uv_timer_start(
      sweep_timer_.get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<UpstreamPool::Impl*>(t->data)->sweep();
      },
      at > now ? at - now : 0, 0);
}

void UpstreamPool::Impl::sweep() {
  armed_for_ = 0;
  std::uint64_t now = uv_now(loop_);
  // Collect first: expiring one connection can start or close others.
  std::vector<UpstreamConnection*> expired;
  std::uint64_t next = 0;
  for (UpstreamConnection* c : all_) {
    std::uint64_t d = c->deadline();
    if (d == 0) continue;
    if (d <= now) {
      expired.push_back(c);
    } else if (next == 0 || d < next) {
      next = d;
    }
  }
  // The pointers stay valid across the callbacks below: a connection is freed only by a close
  // callback, and those run in a later phase of the loop than timers.
  for (UpstreamConnection* c : expired) c->on_deadline(now);
  if (next != 0) deadline_set(next);
}

void UpstreamPool::Impl::defer(UpstreamConnection* c) {
  if (!handles_ready_) return;
  if (std::find(deferred_.begin(), deferred_.end(), c) == deferred_.end()) deferred_.push_back(c);
  if (!uv_is_active(idle_spin_.handle())) {
    uv_idle_start(idle_spin_.get(), [](uv_idle_t*) {});
  }
}

void UpstreamPool::Impl::run_deferred() {
  // Keep ourselves alive: the last connection may go away while we run.
  auto keep = shared_from_this();
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    for (UpstreamConnection* c : batch) {
      // A connection deleted meanwhile removed itself from `batch`'s source list only; it
      // cannot be deleted while in `batch` because deletion happens in close callbacks, which
      // do not run inside the check phase.
      c->run_deferred();
    }
  }
  if (uv_is_active(idle_spin_.handle())) uv_idle_stop(idle_spin_.get());
}

void UpstreamPool::Impl::forget(UpstreamConnection* c) {
  std::erase(deferred_, c);
  std::erase(idle_, c);
}

bool UpstreamPool::Impl::park(UpstreamConnection* c) {
  if (retired_ || target_.max_idle == 0) return false;
  if (idle_.size() >= target_.max_idle) {
    // Over the cap: close the oldest idle connection, keep the warm one.
    UpstreamConnection* oldest = idle_.front();
    idle_.erase(idle_.begin());
    oldest->close();
  }
  idle_.push_back(c);
  return true;
}

void UpstreamPool::Impl::unpark(UpstreamConnection* c) {
  std::erase(idle_, c);
}

// ---- UpstreamConnection: opening ----------------------------------------------------------

void UpstreamConnection::begin_exchange(UpstreamExchange* ex, RequestHead head, bool reused) {
  assert(exchange_ == nullptr);
  exchange_ = ex;
  ex->conn_ = this;
  head_ = std::move(head);
  head_.version_minor = 1;  // we speak HTTP/1.1 upstream whatever the client spoke
  unsent_at_check_ = static_cast<std::size_t>(-1);
  head_sent_ = false;
  framing_ = Framing::Undecided;
  content_length_ = 0;
  body_written_ = 0;
  body_last_ = false;
  queued_.clear();
  drained_wanted_ = false;
  head_request_ = head_.method == "HEAD";
  interim_ = final_head_ = message_done_ = paused_ = held_end_ = stray_bytes_ = false;
  refusal_ = nullptr;
  held_body_.clear();
  reused_ = reused;
  response_started_ = replayable_ = false;
  replay_body_.clear();
  if (reused) {
    assert(state_ == State::Idle);
    state_ = State::Active;
    uv_ref(reinterpret_cast<uv_handle_t*>(&tcp_));
    clear_deadline();
    // Give the caller this loop turn to call write_body, so the head and the body leave in
    // one write; the deferred task sends the head if the framing is already known.
    schedule(kDeferSendHead);
  }
}

void UpstreamConnection::open() {
  auto& pool = *pool_;
  check_uv(uv_tcp_init(pool.loop_, &tcp_), "uv_tcp_init");
  tcp_open_ = true;
  set_deadline(Deadline::Connect, pool.target_.connect_timeout);
  if (pool.target_.scheme == "https" && !pool.tls_ctx_) {
    fail_later(UpstreamFailure::tls,
               pool.tls_ctx_error_.value_or(make_error("tls.context_failed", "no TLS context")));
    return;
  }
  // IP literals skip the resolver.
  sockaddr_storage addr{};
  const char* host = pool.target_.host.c_str();
  if (uv_ip4_addr(host, pool.target_.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host, pool.target_.port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    addrs_.push_back(addr);
    connect_next();
    return;
  }
  start_dns();
}

void UpstreamConnection::start_dns() {
  state_ = State::Resolving;
  dns_ = new DnsRequest{};
  dns_->conn = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: on a host whose only interface is loopback it hides "localhost". An
  // address of a family the host cannot reach fails at connect, and the next one is tried.
  std::string port = std::to_string(pool_->target_.port);
  int rc = uv_getaddrinfo(
      pool_->loop_, &dns_->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* dns = reinterpret_cast<DnsRequest*>(req);
        UpstreamConnection* c = dns->conn;
        delete dns;
        if (c == nullptr) {  // the connection closed meanwhile
          uv_freeaddrinfo(res);
          return;
        }
        c->dns_ = nullptr;
        if (status != 0) {
          uv_freeaddrinfo(res);
          c->fail(UpstreamFailure::dns, upstream_error("upstream.dns", c->pool_->target_,
                                                       "cannot resolve " + c->pool_->target_.host +
                                                           ": " + uv_strerror(status)));
          return;
        }
        for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
          if (a->ai_family != AF_INET && a->ai_family != AF_INET6) continue;
          sockaddr_storage s{};
          std::memcpy(&s, a->ai_addr, a->ai_addrlen);
          c->addrs_.push_back(s);
        }
        uv_freeaddrinfo(res);
        if (c->addrs_.empty()) {
          c->fail(UpstreamFailure::dns, upstream_error("upstream.dns", c->pool_->target_,
                                                       "no address for " + c->pool_->target_.host));
          return;
        }
        c->connect_next();
      },
      pool_->target_.host.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    delete dns_;
    dns_ = nullptr;
    fail_later(UpstreamFailure::dns,
               upstream_error("upstream.dns", pool_->target_,
                              "cannot resolve " + pool_->target_.host + ": " + uv_strerror(rc)));
  }
}

void UpstreamConnection::connect_next() {
  state_ = State::Connecting;
  const auto* addr = reinterpret_cast<const sockaddr*>(&addrs_[addr_index_]);
  int rc = uv_tcp_connect(&connect_req_, &tcp_, addr, [](uv_connect_t* req, int status) {
    auto* c = static_cast<UpstreamConnection*>(req->data);
    if (status == UV_ECANCELED || c->state_ == State::Closing) return;
    if (status != 0) {
      if (c->next_address()) return;
      c->fail(UpstreamFailure::connect_refused,
              upstream_error("upstream.connect_failed", c->pool_->target_,
                             std::string("connect: ") + uv_strerror(status)));
      return;
    }
    c->on_connected();
  });
  // Some errors (unreachable network for the address family) come back at once.
  if (rc != 0 && !next_address()) {
    fail_later(UpstreamFailure::connect_refused,
               upstream_error("upstream.connect_failed", pool_->target_,
                              std::string("connect: ") + uv_strerror(rc)));
  }
}

// After a failed connect: tries the next resolved address on a fresh socket (the failed one
// cannot connect again). False when there is none left.
bool UpstreamConnection::next_address() {
  if (addr_index_ + 1 >= addrs_.size()) return false;
  addr_index_++;
  reconnecting_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) {
    auto* conn = static_cast<UpstreamConnection*>(h->data);
    conn->reconnecting_ = false;
    if (conn->state_ == State::Closing) {
      delete conn;
      return;
    }
    check_uv(uv_tcp_init(conn->pool_->loop_, &conn->tcp_), "uv_tcp_init");
    conn->connect_next();
  });
  return true;
}

void UpstreamConnection::on_connected() {
  uv_tcp_nodelay(&tcp_, 1);
  if (pool_->target_.scheme != "https") {
    become_active();
    return;
  }
  state_ = State::Handshaking;
  auto session = tls::TlsSession::client(pool_->tls_ctx_, pool_->target_.tls.sni);
  if (!session) {
    fail(UpstreamFailure::tls, session.error());
    return;
  }
  tls_ = std::move(session).value();
  start_reading();
  auto hs = tls_->handshake();  // produces the ClientHello
  if (!hs) {
    fail(UpstreamFailure::tls, hs.error());
    return;
  }
  send(nullptr, 0);
}

void UpstreamConnection::become_active() {
  state_ = State::Active;
  clear_deadline();
  if (tls_ == nullptr) start_reading();
  try_send_head();
  maybe_drained();  // body bytes queued while connecting may all be gone now
}

void UpstreamConnection::start_reading() {
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, std::size_t, uv_buf_t* buf) {
        auto* c = static_cast<UpstreamConnection*>(h->data);
        *buf = uv_buf_init(c->pool_->read_buf_.data(), kReadBufferSize);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        static_cast<UpstreamConnection*>(s->data)->on_read(nread, buf);
      });
}

// ---- UpstreamConnection: reading ----------------------------------------------------------

void UpstreamConnection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (state_ == State::Closing) return;
  if (nread < 0) {
    on_eof(static_cast<int>(nread));
    return;
  }
  if (nread == 0) return;
  std::string_view wire(buf->base, static_cast<std::size_t>(nread));
  if (state_ == State::Idle || state_ == State::Draining) {
    // An idle connection has nothing to say; bytes here mean it cannot be trusted any more.
    // Under TLS, records without application data (a late session ticket) are fine.
    if (tls_ != nullptr) {
      tls_->feed_input(wire);
      auto got = tls_->read_plaintext(pool_->plain_buf_.data(), pool_->plain_buf_.size());
      if (got.ok() && got.value() == 0) return;
    }
    close();
    return;
  }
  if (tls_ == nullptr) {
    on_bytes(wire);
    return;
  }
  tls_->feed_input(wire);
  if (state_ == State::Handshaking) {
    auto hs = tls_->handshake();
    if (!hs) {
      fail(UpstreamFailure::tls,
           upstream_error(hs.error().code, pool_->target_, hs.error().message));
      return;
    }
    send(nullptr, 0);  // the handshake's next flight, if any
    if (state_ == State::Closing) return;
    if (!hs.value()) return;
    become_active();
    if (state_ != State::Active) return;
  }
  auto& plain = pool_->plain_buf_;
  for (;;) {
    auto got = tls_->read_plaintext(plain.data(), plain.size());
    if (!got) {
      if (got.error().code == "tls.closed") {
        on_eof(UV_EOF);
      } else {
        fail(UpstreamFailure::reset,
             upstream_error("upstream.reset", pool_->target_, got.error().message));
      }
      return;
    }
    if (got.value() == 0) break;
    on_bytes(std::string_view(plain.data(), got.value()));
    if (state_ == State::Closing || state_ == State::Idle || state_ == State::Draining) return;
  }
  // TLS 1.3 session tickets and alerts may have produced output.
  if (tls_->pending_output() > 0) send(nullptr, 0);
}

void UpstreamConnection::on_bytes(std::string_view plain) {
  UpstreamExchange* ex = exchange_;
  if (ex == nullptr) {
    close();
    return;
  }
  if (deadline_kind_ == Deadline::Response && !paused_) {
    set_deadline(Deadline::Response, pool_->target_.response_timeout);
  }
  if (!response_started_) {
    response_started_ = true;
    replayable_ = false;
    replay_body_.clear();
  }
  while (!plain.empty()) {
    auto consumed = parser_.execute(plain);
    if (!exchange_live(ex) || state_ == State::Closing) return;
    if (!consumed) {
      fail(UpstreamFailure::bad_response,
           upstream_error("upstream.bad_response", pool_->target_,
                          refusal_ != nullptr
                              ? std::string(refusal_)
                              : "unparsable response (" + consumed.error().code + ")"));
      return;
    }
    plain.remove_prefix(consumed.value());
    if (message_done_) {
      if (!plain.empty()) stray_bytes_ = true;  // bytes past the response: not reusable
      finish_response();
      return;
    }
  }
}

void UpstreamConnection::on_eof(int status) {
  if (state_ == State::Idle || state_ == State::Draining || exchange_ == nullptr) {
    close();
    return;
  }
  if (state_ == State::Handshaking || state_ == State::Connecting) {
    fail(UpstreamFailure::tls, upstream_error("tls.handshake_failed", pool_->target_,
                                              "connection closed during the TLS handshake"));
    return;
  }
  if (status == UV_EOF && final_head_) {
    UpstreamExchange* ex = exchange_;
    Status st = parser_.finish();  // completes a close-delimited body
    if (!exchange_live(ex) || state_ == State::Closing) return;
    if (st && message_done_) {
      stray_bytes_ = true;  // the connection is gone: never reuse
      finish_response();
      return;
    }
  }
  if (try_replay()) return;
  fail(UpstreamFailure::reset,
       upstream_error("upstream.reset", pool_->target_,
                      status == UV_EOF ? "connection closed before the response ended"
                                       : std::string("connection error: ") + uv_strerror(status)));
}

ParserAction UpstreamConnection::on_response_head(ResponseHead&& head, const BodyFraming& framing) {
  if (head.status >= 100 && head.status < 200) {
    // 100 Continue, 103 Early Hints: not forwarded. A 1xx never has a body (RFC 9110 §15.2);
    // one that announces a body would have its bytes reach the client as a response of its own.
    if (framing.chunked || (framing.content_length && *framing.content_length > 0)) {
      refusal_ = "a 1xx response announcing a body";
      return ParserAction::Abort;
    }
    interim_ = true;
    return ParserAction::NoBody;
  }
  final_head_ = true;
  UpstreamExchange* ex = exchange_;
  ExchangeHandler* h = handler();
  h->on_response_head(std::move(head));
  if (!exchange_live(ex) || state_ == State::Closing) return ParserAction::Abort;
  return head_request_ ? ParserAction::NoBody : ParserAction::Continue;
}

ParserAction UpstreamConnection::on_body(std::string_view bytes) {
  if (paused_ || !held_body_.empty()) {
    held_body_.append(bytes);
    return ParserAction::Continue;
  }
  UpstreamExchange* ex = exchange_;
  handler()->on_response_body(bytes);
  if (!exchange_live(ex) || state_ == State::Closing) return ParserAction::Abort;
  return ParserAction::Continue;
}

ParserAction UpstreamConnection::on_message_complete() {
  if (interim_) {
    interim_ = false;
    return ParserAction::Continue;
  }
  message_done_ = true;
  return ParserAction::Continue;
}

void UpstreamConnection::finish_response() {
  if (paused_ || !held_body_.empty()) {
    held_end_ = true;  // delivered by resume_response
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    return;
  }
  UpstreamExchange* ex = exchange_;
  ExchangeHandler* h = ex->handler_;
  ex->detach();
  exchange_ = nullptr;
  clear_deadline();
  settle_after_response();
  h->on_response_end();
}

// After a response ended (or an exchange was abandoned before the head went out): park the
// connection if it is clean, otherwise close it.
void UpstreamConnection::settle_after_response() {
  bool clean = parser_.keep_alive() && !stray_bytes_ && !write_failed_ && head_sent_ &&
               body_last_ && exchange_ == nullptr && queued_.empty();
  if (!clean) {
    close();
    return;
  }
  if (writes_in_flight_ > 0) {
    state_ = State::Draining;  // parked when the last request bytes are written
    return;
  }
  if (!pool_->park(this)) {
    close();
    return;
  }
  state_ = State::Idle;
  start_reading();  // a response that ended while paused left reading off; idle must watch EOF
  uv_unref(reinterpret_cast<uv_handle_t*>(&tcp_));
  set_deadline(Deadline::IdleExpiry, pool_->target_.idle_expiry);
}

// ---- UpstreamConnection: writing ----------------------------------------------------------

void UpstreamConnection::try_send_head(std::string_view tail, std::string* owner) {
  // `tail` kept in `into`: the owner's buffer taken when `into` holds nothing yet.
  auto keep = [&](std::string& into) {
    if (tail.empty()) return;
    if (owner != nullptr && into.empty()) {
      into = std::move(*owner);
    } else {
      into.append(tail);
    }
  };
  auto keep_tail = [&] { keep(queued_); };
  if (head_sent_ || state_ != State::Active || exchange_ == nullptr) {
    keep_tail();
    return;
  }
  const std::size_t pending = queued_.size() + tail.size();
  if (framing_ == Framing::Undecided) {
    if (auto cl = head_.headers.get("Content-Length")) {
      std::uint64_t n = 0;
      auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
      if (ec != std::errc{} || p != cl->data() + cl->size() ||
          head_.headers.count("Content-Length") != 1) {
        fail_later(UpstreamFailure::bad_request,
                   upstream_error("upstream.bad_request", pool_->target_,
                                  "request Content-Length is not one decimal number"));
        return;
      }
      framing_ = Framing::Sized;
      content_length_ = n;
      head_.headers.remove("Transfer-Encoding");
    } else if (head_.headers.has("Transfer-Encoding")) {
      framing_ = Framing::Chunked;
      head_.headers.set("Transfer-Encoding", "chunked");
    } else if (body_last_) {
      if (pending > 0 || method_has_body_semantics(head_.method)) {
        head_.headers.set("Content-Length", std::to_string(pending));
        framing_ = Framing::Sized;
        content_length_ = pending;
      } else {
        framing_ = Framing::None;
      }
    } else if (pending > 0) {
      framing_ = Framing::Chunked;
      head_.headers.set("Transfer-Encoding", "chunked");
    } else {
      return;  // wait for the first write_body to learn the framing (pending is 0: no tail)
    }
  }
  std::string head;
  head.reserve(256 + head_.target.size());
  serialize(head_, head);
  head_sent_ = true;
  set_deadline(Deadline::Response, pool_->target_.response_timeout);
  if (framing_ == Framing::Sized &&
      (body_written_ > content_length_ || (body_last_ && body_written_ != content_length_))) {
    fail_later(UpstreamFailure::bad_request,
               upstream_error("upstream.body_length_mismatch", pool_->target_,
                              "request body length differs from its Content-Length"));
    return;
  }
  if (framing_ == Framing::None && pending > 0) {
    fail_later(UpstreamFailure::bad_request,
               upstream_error("upstream.bad_request", pool_->target_, "unexpected body"));
    return;
  }
  // The body is kept for a replay (try_replay) when this connection was reused and the
  // request leaves whole; otherwise the queued bytes live only for this call and `tail` goes
  // out from the caller's buffer (send() copies only what the kernel does not take).
  replayable_ = reused_ && body_last_;
  std::string scratch;
  std::string& queued = replayable_ ? replay_body_ : scratch;
  queued = std::move(queued_);
  queued_.clear();
  std::string_view rest = tail;
  if (replayable_ && !tail.empty()) {
    keep(queued);
    rest = {};
  }
  std::array<uv_buf_t, 5> bufs{};
  unsigned n = 0;
  bufs[n++] = uv_buf_init(head.data(), static_cast<unsigned>(head.size()));
  char size_line[24];
  if (framing_ == Framing::Chunked && pending > 0) {
    int len = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", pending);
    bufs[n++] = uv_buf_init(size_line, static_cast<unsigned>(len));
  }
  if (!queued.empty()) {
    bufs[n++] = uv_buf_init(queued.data(), static_cast<unsigned>(queued.size()));
  }
  if (!rest.empty()) {
    bufs[n++] = uv_buf_init(const_cast<char*>(rest.data()), static_cast<unsigned>(rest.size()));
  }
  if (framing_ == Framing::Chunked && pending > 0) {
    static const char kCrlf[] = "\r\n0\r\n\r\n";
    bufs[n++] = uv_buf_init(const_cast<char*>(kCrlf), body_last_ ? 7 : 2);
  } else if (framing_ == Framing::Chunked && body_last_) {
    static const char kEnd[] = "0\r\n\r\n";
    bufs[n++] = uv_buf_init(const_cast<char*>(kEnd), 5);
  }
  send(bufs.data(), n);
}

void UpstreamConnection::write_body(std::string_view bytes, bool last, std::string* owner) {
  if (body_last_ || state_ == State::Closing) return;
  body_written_ += bytes.size();
  if (!bytes.empty()) unsent_at_check_ = static_cast<std::size_t>(-1);
  body_last_ = last;
  if (deadline_kind_ == Deadline::Response) {
    set_deadline(Deadline::Response, pool_->target_.response_timeout);
  }
  if (!head_sent_) {
    try_send_head(bytes, owner);
  } else {
    replayable_ = false;
    replay_body_.clear();
    if (framing_ == Framing::Sized &&
        (body_written_ > content_length_ || (last && body_written_ != content_length_))) {
      fail_later(UpstreamFailure::bad_request,
                 upstream_error("upstream.body_length_mismatch", pool_->target_,
                                "request body length differs from its Content-Length"));
      return;
    }
    if (framing_ == Framing::None && !bytes.empty()) {
      fail_later(UpstreamFailure::bad_request,
                 upstream_error("upstream.bad_request", pool_->target_, "unexpected body"));
      return;
    }
    std::array<uv_buf_t, 3> bufs{};
    unsigned n = 0;
    char size_line[24];
    if (framing_ == Framing::Chunked) {
      if (!bytes.empty()) {
        int len = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", bytes.size());
        bufs[n++] = uv_buf_init(size_line, static_cast<unsigned>(len));
        bufs[n++] =
            uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
        static const char kCrlf[] = "\r\n0\r\n\r\n";
        bufs[n++] = uv_buf_init(const_cast<char*>(kCrlf), last ? 7 : 2);
      } else if (last) {
        static const char kEnd[] = "0\r\n\r\n";
        bufs[n++] = uv_buf_init(const_cast<char*>(kEnd), 5);
      }
    } else if (!bytes.empty()) {
      bufs[n++] = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    }
    if (n > 0) send(bufs.data(), n);
  }
  if (exchange_ != nullptr && pending_write_bytes() > exchange_->low_watermark_) {
    drained_wanted_ = true;
  }
}

namespace {
struct WriteReq {
  uv_write_t req;
  std::string data;
};
}  // namespace

// Hands bytes to the kernel: through TLS when the connection has it, with uv_try_write first
// (no copy when the socket takes everything), copying only what remains into a uv_write.
// With count == 0 it only flushes pending TLS output.
void UpstreamConnection::send(const uv_buf_t* bufs, unsigned count) {
  if (state_ == State::Closing || write_failed_) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  std::string owned;
  std::vector<uv_buf_t> rest;
  if (tls_ != nullptr) {
    for (unsigned i = 0; i < count; ++i) {
      if (auto st = tls_->write_plaintext(std::string_view(bufs[i].base, bufs[i].len)); !st) {
        write_failed_ = true;
        fail_later(UpstreamFailure::tls, st.error());
        return;
      }
    }
    tls_->take_output(owned);
    if (owned.empty()) return;
    rest.push_back(uv_buf_init(owned.data(), static_cast<unsigned>(owned.size())));
  } else {
    rest.assign(bufs, bufs + count);
  }
  std::size_t total = 0;
  for (const auto& b : rest) total += b.len;
  if (total == 0) return;
  std::size_t done = 0;
  if (writes_in_flight_ == 0) {
    int rc = uv_try_write(stream, rest.data(), static_cast<unsigned>(rest.size()));
    if (rc >= 0) {
      done = static_cast<std::size_t>(rc);
    } else if (rc != UV_EAGAIN) {
      if (try_replay()) return;
      write_failed_ = true;
      if (!final_head_) {
        fail_later(UpstreamFailure::reset,
                   upstream_error("upstream.reset", pool_->target_,
                                  std::string("write: ") + uv_strerror(rc)));
      }
      return;
    }
  }
  if (done == total) return;
  // Copy what the kernel did not take.
  auto* w = new WriteReq{};
  w->data.reserve(total - done);
  std::size_t skip = done;
  for (const auto& b : rest) {
    if (skip >= b.len) {
      skip -= b.len;
      continue;
    }
    w->data.append(b.base + skip, b.len - skip);
    skip = 0;
  }
  w->req.data = this;
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int status) {
    auto* wr = reinterpret_cast<WriteReq*>(req);
    auto* c = static_cast<UpstreamConnection*>(req->data);
    delete wr;
    c->on_write_done(status);
  });
  if (rc != 0) {
    delete w;
    write_failed_ = true;
    fail_later(UpstreamFailure::reset, upstream_error("upstream.reset", pool_->target_,
                                                      std::string("write: ") + uv_strerror(rc)));
    return;
  }
  writes_in_flight_++;
}

void UpstreamConnection::on_write_done(int status) {
  writes_in_flight_--;
  if (state_ == State::Closing) return;
  if (status < 0) {
    write_failed_ = true;
    if (state_ == State::Draining) {
      close();
    } else if (try_replay()) {
      return;
    } else if (exchange_ != nullptr && !final_head_) {
      fail(UpstreamFailure::reset, upstream_error("upstream.reset", pool_->target_,
                                                  std::string("write: ") + uv_strerror(status)));
    }
    return;
  }
  if (writes_in_flight_ == 0 && state_ == State::Draining) {
    state_ = State::Active;  // settle re-derives Idle
    settle_after_response();
    return;
  }
  maybe_drained();
}

void UpstreamConnection::maybe_drained() {
  if (!drained_wanted_ || exchange_ == nullptr ||
      pending_write_bytes() > exchange_->low_watermark_) {
    return;
  }
  drained_wanted_ = false;
  handler()->on_request_body_drained();
}

std::size_t UpstreamConnection::pending_write_bytes() const {
  std::size_t n = queued_.size();
  if (tcp_open_ && state_ != State::Closing) {
    n += uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
  }
  if (tls_ != nullptr) n += tls_->pending_output();
  return n;
}

std::size_t UpstreamConnection::kernel_unacked() const {
  if (!tcp_open_ || state_ == State::Closing) return 0;
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0) return 0;
  int queued = 0;
  if (::ioctl(fd, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
  return static_cast<std::size_t>(queued);
}

// ---- UpstreamConnection: flow control, deferral, deadlines, failure, close ------------

void UpstreamConnection::pause_response() {
  if (paused_) return;
  paused_ = true;
  if (deadline_kind_ == Deadline::Response) clear_deadline();
  if (state_ == State::Active) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void UpstreamConnection::resume_response() {
  if (!paused_) return;
  paused_ = false;
  if (!held_body_.empty() || held_end_) {
    schedule(kDeferDeliverHeld);  // callbacks never fire inside resume_response
    return;
  }
  if (state_ == State::Active) {
    start_reading();
    if (head_sent_) set_deadline(Deadline::Response, pool_->target_.response_timeout);
  }
}

void UpstreamConnection::run_deferred() {
  unsigned flags = std::exchange(deferred_, 0u);
  if (state_ == State::Closing && !(flags & kDeferFailure)) return;
  if (flags & kDeferFailure) {
    fail(pending_kind_, pending_error_);
    return;
  }
  if (flags & kDeferSendHead) {
    try_send_head();
    if (state_ == State::Closing) return;
    maybe_drained();
  }
  if ((flags & kDeferDeliverHeld) && exchange_ != nullptr && !paused_) {
    UpstreamExchange* ex = exchange_;
    if (!held_body_.empty()) {
      std::string held = std::move(held_body_);
      held_body_.clear();
      handler()->on_response_body(held);
      if (!exchange_live(ex) || state_ == State::Closing) return;
    }
    if (paused_) return;  // paused again inside the callback; the rest waits
    if (held_end_) {
      held_end_ = false;
      finish_response();
      return;
    }
    if (state_ == State::Active) {
      start_reading();
      if (head_sent_) set_deadline(Deadline::Response, pool_->target_.response_timeout);
    }
  }
}

void UpstreamConnection::set_deadline(Deadline kind, std::chrono::milliseconds after) {
  deadline_kind_ = kind;
  deadline_ =
      uv_now(pool_->loop_) + static_cast<std::uint64_t>(std::max<std::int64_t>(after.count(), 1));
  pool_->deadline_set(deadline_);
}

void UpstreamConnection::on_deadline(std::uint64_t now) {
  if (deadline_ == 0 || deadline_ > now || state_ == State::Closing) return;
  Deadline kind = deadline_kind_;
  clear_deadline();
  const auto& t = pool_->target_;
  switch (kind) {
    case Deadline::Connect:
      fail(UpstreamFailure::connect_timeout,
           upstream_error("upstream.connect_timeout", t, "connect timed out"));
      break;
    case Deadline::Response:
      // An upstream still taking request bytes is not silent: its answer is not due before it
      // has read the request. While bytes are unsent or unacknowledged (our queue, the TLS
      // output, the kernel's send queue), the deadline fails only after a whole period in
      // which that amount did not shrink; the first check after new bytes sets the baseline.
      if (const std::size_t unsent = pending_write_bytes() + kernel_unacked();
          unsent > 0 && unsent < unsent_at_check_) {
        unsent_at_check_ = unsent;
        set_deadline(Deadline::Response, t.response_timeout);
        break;
      }
      fail(UpstreamFailure::response_timeout,
           upstream_error("upstream.response_timeout", t, "response timed out"));
      break;
    case Deadline::IdleExpiry:
      pool_->unpark(this);
      close();
      break;
    case Deadline::None:
      break;
  }
}

// Moves the exchange to a fresh connection, when this one was reused and died before any
// response byte arrived: the upstream closed the idle connection as we picked it, so it never
// answered the request. Possible while the head is unsent (nothing to replay) or after the
// request went out whole (its body kept in replay_body_). At most once per exchange: the fresh
// connection is not a reused one.
bool UpstreamConnection::try_replay() {
  if (!reused_ || response_started_ || exchange_ == nullptr) return false;
  if (head_sent_ && !replayable_) return false;
  UpstreamExchange* ex = exchange_;
  exchange_ = nullptr;
  ex->conn_ = nullptr;
  auto* fresh = new UpstreamConnection(pool_);
  fresh->begin_exchange(ex, std::move(head_), false);
  if (head_sent_) {
    fresh->queued_ = std::move(replay_body_);
    fresh->body_written_ = fresh->queued_.size();
    fresh->body_last_ = true;
  } else {
    fresh->queued_ = std::move(queued_);
    fresh->body_written_ = body_written_;
    fresh->body_last_ = body_last_;
    fresh->drained_wanted_ = drained_wanted_;
  }
  replayable_ = false;
  close();
  fresh->open();
  return true;
}

void UpstreamConnection::fail_later(UpstreamFailure kind, Error error) {
  if (exchange_ == nullptr) {
    close();
    return;
  }
  if (deferred_ & kDeferFailure) return;  // the first failure wins
  pending_kind_ = kind;
  pending_error_ = std::move(error);
  schedule(kDeferFailure);
}

void UpstreamConnection::fail(UpstreamFailure kind, Error error) {
  UpstreamExchange* ex = exchange_;
  close();
  if (ex == nullptr) return;
  ExchangeHandler* h = ex->handler_;
  ex->detach();
  pool_->stats_.exchanges_failed++;
  h->on_failure(kind, error);
}

void UpstreamConnection::abandon() {
  exchange_ = nullptr;
  close();
}

void UpstreamConnection::close() {
  if (state_ == State::Closing) return;
  bool was_idle = state_ == State::Idle;
  state_ = State::Closing;
  clear_deadline();
  if (was_idle) pool_->unpark(this);
  if (exchange_ != nullptr) {
    exchange_->detach();
    exchange_ = nullptr;
  }
  if (dns_ != nullptr) {
    dns_->conn = nullptr;  // its callback frees it
    uv_cancel(reinterpret_cast<uv_req_t*>(&dns_->req));
    dns_ = nullptr;
  }
  if (pool_->retired_) pool_->release_handles_if_unused();
  if (reconnecting_) return;  // the close callback in flight sees Closing and deletes
  assert(tcp_open_);
  tcp_open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
           [](uv_handle_t* h) { delete static_cast<UpstreamConnection*>(h->data); });
}

// ---- UpstreamPool --------------------------------------------------------------------------

UpstreamPool::UpstreamPool(uv_loop_t* loop, UpstreamTarget target)
    : impl_(std::make_shared<Impl>(loop, std::move(target))) {}

UpstreamPool::~UpstreamPool() {
  impl_->retire();
}

std::unique_ptr<Exchange> UpstreamPool::start(const RequestHead& head, ExchangeHandler& handler) {
  return impl_->start(head, handler);
}

std::unique_ptr<Exchange> UpstreamPool::start(RequestHead&& head, ExchangeHandler& handler) {
  return impl_->start(std::move(head), handler);
}

const UpstreamTarget& UpstreamPool::target() const {
  return impl_->target_;
}

UpstreamPoolStats UpstreamPool::stats() const {
  UpstreamPoolStats s = impl_->stats_;
  s.idle_connections = impl_->idle_.size();
  s.active_connections = impl_->all_.size() - impl_->idle_.size();
  return s;
}

}  // namespace edgeward::http
