#include "daemon/proxy.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>

#include "core/log.hpp"

namespace edgeward::daemon {

using Clock = std::chrono::steady_clock;

// How long the first request of a release batch may wait for the others of its loop turn
// (release_queue.hpp): a few 16 KiB inspections, and well under the 0.2 ms the gateway may add
// to a request.
constexpr std::chrono::microseconds kReleaseHold{100};

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::optional<std::uint64_t> parse_content_length(const http::Headers& headers) {
  auto v = headers.get("Content-Length");
  if (!v) return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) return std::nullopt;
  return n;
}

void append_escaped(std::string& out, std::string_view s) {
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

// A handler for requests answered at once (no route, no config): ignores the body.
class AnsweredRequest final : public http::RequestHandler {
 public:
  void on_request_body(std::string_view) override {}
  void on_request_end() override {}
  void on_client_gone() override {}
};

}  // namespace

// ---------------------------------------------------------------------------------------------

bool is_hop_by_hop(std::string_view name) {
  using http::iequals;
  if (name.size() >= 6 && iequals(name.substr(0, 6), "Proxy-")) return true;
  return iequals(name, "Connection") || iequals(name, "Keep-Alive") || iequals(name, "TE") ||
         iequals(name, "Trailer") || iequals(name, "Transfer-Encoding") || iequals(name, "Upgrade");
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void strip_hop_by_hop(http::Headers& headers) {
  // Names listed in Connection are hop-by-hop for this message too (RFC 9110 §7.6.1).
  std::vector<std::string> named;
  for (const auto& h : headers.list()) {
    if (!http::iequals(h.name, "Connection")) continue;
    std::string_view v = h.value;
    while (!v.empty()) {
      auto comma = v.find(',');
      std::string_view token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
        token.remove_prefix(1);
      }
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.remove_suffix(1);
      }
      if (!token.empty()) named.push_back(ascii_lower(token));
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  // Sorted and looked up by binary search: a head of thousands of tokens and headers must not
  // cost their product (a red-team head of 8,000 tokens and 7,000 headers took 110 ms).
  std::sort(named.begin(), named.end());
  named.erase(std::unique(named.begin(), named.end()), named.end());
  auto& list = headers.list();
  std::string lowered;
  std::erase_if(list, [&](const http::Header& h) {
    if (is_hop_by_hop(h.name)) return true;
    if (named.empty()) return false;
    lowered = ascii_lower(h.name);
    return std::binary_search(named.begin(), named.end(), lowered);
  });
}

std::string error_body(ApiDialect dialect, std::string_view message, std::string_view type,
                       std::string_view code) {
  std::string out;
  out.reserve(160 + message.size());
  if (dialect == ApiDialect::anthropic) {
    out += "{\"type\":\"error\",\"error\":{\"type\":\"";
    append_escaped(out, type);
    out += "\",\"message\":\"";
    append_escaped(out, message);
    out += "\"}}";
    return out;
  }
  return http::openai_error_body(message, type, code);
}

// ---------------------------------------------------------------------------------------------

ProxyMetrics::ProxyMetrics(MetricsRegistry& reg)
    : latency(reg.histogram("edgeward_http_request_duration_seconds",
                            "Time from request head to the end of the response.",
                            latency_buckets_seconds())),
      upstream_latency(reg.histogram("edgeward_upstream_response_seconds",
                                     "Time from request head to the upstream's response head.",
                                     latency_buckets_seconds())),
      request_bytes(reg.counter("edgeward_http_request_body_bytes_total",
                                "Request body bytes received from clients.")),
      response_bytes(reg.counter("edgeward_http_response_body_bytes_total",
                                 "Response body bytes sent to clients.")),
      client_gone(reg.counter("edgeward_http_client_aborts_total",
                              "Exchanges cut short because the client went away.")),
      open_connections(reg.gauge("edgeward_http_open_connections", "Client connections open now.")),
      active_requests(reg.gauge("edgeward_http_active_requests", "Requests in flight now.")),
      registry(reg) {
  requests_by_class[0] = nullptr;
  static const char* kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 1; i <= 5; ++i) {
    requests_by_class[i] =
        &reg.counter("edgeward_http_requests_total", "Requests answered, by status class.",
                     {{"class", kClasses[i]}});
  }
}

Counter& ProxyMetrics::upstream_failure(std::string_view upstream, http::UpstreamFailure failure) {
  return registry.counter(
      "edgeward_upstream_failures_total", "Upstream exchanges that failed, by upstream and cause.",
      {{"upstream", std::string(upstream)}, {"cause", std::string(http::to_string(failure))}});
}

// ---------------------------------------------------------------------------------------------

Result<std::shared_ptr<ProxyRoutes>> ProxyRoutes::build(uv_loop_t* loop, const Config& config) {
  auto routes = std::make_shared<ProxyRoutes>();
  for (const UpstreamConfig& up : config.upstreams) {
    auto target = http::parse_upstream_url(up.url);
    if (!target) {
      return make_error(target.error().code, "upstream " + up.name + ": " + target.error().message);
    }
    target->name = up.name;
    target->tls.verify = up.tls.verify;
    target->tls.ca_file = up.tls.ca_file.value_or("");
    target->connect_timeout = up.connect_timeout;
    target->response_timeout = up.response_timeout;
    auto u = std::make_unique<Upstream>();
    u->config = up;
    const bool https = target->scheme == "https";
    const std::uint16_t port = target->port != 0 ? target->port : (https ? 443 : 80);
    const bool v6 = target->host.find(':') != std::string::npos;
    u->host_header = v6 ? "[" + target->host + "]" : target->host;
    if (port != (https ? 443 : 80)) u->host_header += ":" + std::to_string(port);
    u->pool = std::make_unique<http::UpstreamPool>(loop, std::move(*target));
    for (const std::string& prefix : up.routes) routes->routes_.push_back({prefix, u.get()});
    routes->upstreams_.push_back(std::move(u));
  }
  std::stable_sort(
      routes->routes_.begin(), routes->routes_.end(),
      [](const Route& a, const Route& b) { return a.prefix.size() > b.prefix.size(); });
  return routes;
}

const ProxyRoutes::Route* ProxyRoutes::match(std::string_view path) const {
  for (const Route& r : routes_) {
    if (path.substr(0, r.prefix.size()) == r.prefix) return &r;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------

namespace {

// One proxied request: the client side (RequestHandler) and the upstream side
// (ExchangeHandler) of the same exchange.
//
// Phases:  Inspecting (request body buffered for the hook) ─▶ [Releasing] ─▶ Forwarding ─▶ Done
//          any ─▶ Answered (the hook or an error answered the client) ─▶ Done
// Releasing: the hook allowed the whole body; it waits in the app's ReleaseQueue until the loop
// next polls, with the other requests allowed in the same turn (release_queue.hpp).
class ProxyExchange final : public http::RequestHandler,
                            public http::ExchangeHandler,
                            private ReleaseQueue::Item {
 public:
  enum class Phase { Inspecting, Releasing, Forwarding, Answered, Done };

  ProxyExchange(ProxyApp& app, std::shared_ptr<ProxyRoutes> routes, const ProxyRoutes::Route& route,
                http::RequestHead&& head, const http::BodyFraming& framing,
                http::Responder& responder)
      : app_(app),
        routes_(std::move(routes)),
        upstream_(*route.upstream),
        head_(std::move(head)),
        responder_(responder),
        started_(Clock::now()),
        request_length_(framing.content_length) {
    app_.metrics().active_requests.add(1);
  }

  ~ProxyExchange() override {
    if (phase_ == Phase::Releasing) app_.releases().withdraw(*this);
    if (exchange_) exchange_->abort();
    if (!completed_) complete(0);
  }

  void start();

  // RequestHandler
  void on_request_body(std::string_view bytes) override;
  void on_request_end() override;
  void on_response_drained() override;
  void on_client_gone() override;

  // ExchangeHandler
  void on_response_head(http::ResponseHead&& head) override;
  void on_response_body(std::string_view bytes) override;
  void on_response_end() override;
  void on_failure(http::UpstreamFailure failure, const Error& error) override;
  void on_request_body_drained() override;

 private:
  template <class F>
  auto timed(F&& f) {
    auto t0 = Clock::now();
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      inspect_time_ += Clock::now() - t0;
    } else {
      auto r = f();
      inspect_time_ += Clock::now() - t0;
      return r;
    }
  }
  void forward(bool body_known);
  // ReleaseQueue::Item: sends the inspected body (rewritten when body_rewritten_).
  void release() override;
  // Readies the head for the upstream and starts the exchange; `body_known`: the body was
  // chosen here (hook rewrite, chunked client body), so the client side frames it.
  void start_upstream(bool body_known);
  // The padding the hook is promised after body_ (kBodyPadding), reserved if missing.
  std::size_t padded_body();
  void answer(http::ResponseHead& head, std::string_view body);
  void answer_hook(HookAnswer& a);
  void send_error(int status, std::string_view message, std::string_view code);
  void add_server_timing(http::Headers& headers);
  void check_response_backpressure();
  void finish_response();
  void complete(int status);

  ProxyApp& app_;
  std::shared_ptr<ProxyRoutes> routes_;
  ProxyRoutes::Upstream& upstream_;
  http::RequestHead head_;
  http::Responder& responder_;
  Clock::time_point started_;
  Clock::duration inspect_time_{};
  std::optional<std::uint64_t> request_length_;  // the client's Content-Length

  RouteInfo route_info_;
  std::unique_ptr<RequestInspection> inspection_;
  std::unique_ptr<http::Exchange> exchange_;
  Phase phase_ = Phase::Forwarding;
  ResponseMode response_mode_ = ResponseMode::pass;
  http::ResponseHead response_head_;
  std::string body_;  // buffered request body (Inspecting) or response body (buffer mode)
  std::string out_;   // hook output for one stream chunk
  bool request_ended_ = false;
  bool client_gone_ = false;
  bool request_paused_ = false;
  bool response_paused_ = false;
  bool completed_ = false;
  bool body_rewritten_ = false;  // Releasing: the hook's body replaced the client's
  int status_ = 0;
};

void ProxyExchange::start() {
  route_info_.upstream = upstream_.config.name;
  route_info_.dialect_setting = upstream_.config.dialect;
  route_info_.path = head_.path();
  route_info_.dialect = dialect_for(upstream_.config.dialect, route_info_.path);
  bool wants_body = false;
  if (InspectionHook* hook = app_.hook()) {
    // One timed call for both: each clock read is paid on every request.
    wants_body = timed([&] {
      inspection_ = hook->begin(route_info_, head_);
      return inspection_ && inspection_->wants_request_body();
    });
  }
  if (wants_body) {
    phase_ = Phase::Inspecting;  // decide_request runs at on_request_end
    // The whole body in one allocation, with the hook's padding: no growth copies, and the
    // hook parses it where it is. The server has refused a Content-Length above
    // limits.max_request_body before this point.
    body_.reserve(static_cast<std::size_t>(request_length_.value_or(0)) + kBodyPadding);
    return;
  }
  if (inspection_) {
    RequestVerdict v = timed([&] { return inspection_->decide_request(head_, {}); });
    if (v.kind == RequestVerdict::Kind::answer) {
      answer_hook(v.answer);
      return;
    }
    if (v.kind == RequestVerdict::Kind::rewrite) {
      // A body chosen from the head alone replaces whatever the client sends.
      body_ = std::move(v.body);
      phase_ = Phase::Inspecting;
      forward(true);
      return;
    }
  }
  forward(false);
}

std::size_t ProxyExchange::padded_body() {
  if (body_.capacity() - body_.size() < kBodyPadding) body_.reserve(body_.size() + kBodyPadding);
  return body_.capacity() - body_.size();
}

void ProxyExchange::start_upstream(bool body_known) {
  http::Headers& h = head_.headers;
  strip_hop_by_hop(h);
  h.remove("Expect");            // answered (100 Continue) by this hop
  h.remove("Edgeward-Session");  // the gateway's own correlation header: not the provider's
  h.set("Host", upstream_.host_header);
  for (const auto& extra : upstream_.config.headers.list()) h.set(extra.name, extra.value);
  if (body_known) h.remove("Content-Length");  // the client side frames the new body
  phase_ = Phase::Forwarding;
  // The head is handed over (the hook has seen it; nothing reads it after this), not copied.
  route_info_.path = {};  // a view into head_'s target
  exchange_ = upstream_.pool->start(std::move(head_), *this);
  exchange_->set_request_low_watermark(app_.settings().low_watermark);
}

void ProxyExchange::forward(bool body_known) {
  start_upstream(body_known);
  if (body_known) {
    // Handed over, not copied: the client keeps it for a replay on a fresh connection.
    exchange_->write_whole_body(std::move(body_));
    body_ = std::string();
  } else if (request_ended_) {
    exchange_->write_body({}, true);
  }
}

void ProxyExchange::on_request_body(std::string_view bytes) {
  app_.metrics().request_bytes.inc(bytes.size());
  switch (phase_) {
    case Phase::Inspecting:
      body_.append(bytes);  // bounded by limits.max_request_body in the server
      return;
    case Phase::Forwarding:
      if (!exchange_) return;
      exchange_->write_body(bytes, false);
      if (!request_paused_ && exchange_->pending_write_bytes() > app_.settings().high_watermark) {
        request_paused_ = true;
        responder_.pause_request_body();
      }
      return;
    case Phase::Releasing:  // the body ended before the hook decided
    case Phase::Answered:
    case Phase::Done:
      return;
  }
}

void ProxyExchange::on_request_end() {
  request_ended_ = true;
  if (phase_ == Phase::Inspecting && !exchange_) {
    const std::size_t padding = padded_body();
    RequestVerdict v = timed([&] { return inspection_->decide_request(head_, body_, padding); });
    switch (v.kind) {
      case RequestVerdict::Kind::answer:
        answer_hook(v.answer);
        return;
      case RequestVerdict::Kind::rewrite:
        body_ = std::move(v.body);
        break;
      case RequestVerdict::Kind::allow:
        break;
    }
    body_rewritten_ = v.kind == RequestVerdict::Kind::rewrite;
    phase_ = Phase::Releasing;
    app_.releases().park(*this);
    return;
  }
  if (phase_ == Phase::Forwarding && exchange_) exchange_->write_body({}, true);
}

void ProxyExchange::release() {
  if (phase_ != Phase::Releasing) return;
  // Content-Length is recomputed only when the body changed; an allowed body keeps the
  // client's framing header (or gets one, when the client sent it chunked).
  if (!body_rewritten_ && head_.headers.has("Content-Length")) {
    start_upstream(false);
    exchange_->write_whole_body(std::move(body_));
    body_ = std::string();
    return;
  }
  forward(true);
}

void ProxyExchange::on_request_body_drained() {
  if (request_paused_ && !client_gone_) {
    request_paused_ = false;
    responder_.resume_request_body();
  }
}

void ProxyExchange::on_client_gone() {
  client_gone_ = true;
  if (phase_ == Phase::Releasing) app_.releases().withdraw(*this);
  app_.metrics().client_gone.inc();
  if (exchange_) exchange_->abort();
  phase_ = Phase::Done;
  complete(0);
}

void ProxyExchange::add_server_timing(http::Headers& headers) {
  // to_chars rather than snprintf("%.3f"): the same text at a fraction of the cost, on every
  // response.
  static constexpr std::string_view kPrefix = "edgeward;dur=";
  char buf[64];
  const double ms = std::chrono::duration<double, std::milli>(inspect_time_).count();
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  if (ec != std::errc()) {  // a value too long for the buffer: whole milliseconds then
    end = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(ms)).ptr;
  }
  std::string value;
  value.reserve(kPrefix.size() + static_cast<std::size_t>(end - buf));
  value.append(kPrefix).append(buf, end);
  headers.add("Server-Timing", std::move(value));
}

void ProxyExchange::answer(http::ResponseHead& head, std::string_view body) {
  if (client_gone_ || responder_.head_sent()) return;
  head.headers.remove("Content-Length");
  head.headers.remove("Transfer-Encoding");
  head.headers.remove("Connection");
  add_server_timing(head.headers);
  status_ = head.status;
  complete(head.status);  // counted before the bytes leave, so a client never sees it lag
  responder_.respond(head, body);
}

void ProxyExchange::answer_hook(HookAnswer& a) {
  phase_ = Phase::Answered;
  if (exchange_) {
    exchange_->abort();
    exchange_.reset();
  }
  http::ResponseHead head;
  head.status = a.status;
  head.headers = std::move(a.headers);
  answer(head, a.body);
}

void ProxyExchange::send_error(int status, std::string_view message, std::string_view code) {
  http::ResponseHead head;
  head.status = status;
  head.headers.add("Content-Type", "application/json");
  std::string body = error_body(route_info_.dialect, message, "edgeward_upstream_error", code);
  answer(head, body);
}

void ProxyExchange::on_response_head(http::ResponseHead&& head) {
  if (client_gone_) return;
  app_.metrics().upstream_latency.observe(seconds_since(started_));
  response_head_ = std::move(head);
  auto& h = response_head_.headers;
  const bool chunked = h.has("Transfer-Encoding");
  std::optional<std::uint64_t> length = chunked ? std::nullopt : parse_content_length(h);
  strip_hop_by_hop(h);
  h.remove("Content-Length");
  response_mode_ = inspection_
                       ? timed([&] { return inspection_->on_response_head(response_head_); })
                       : ResponseMode::pass;
  status_ = response_head_.status;
  switch (response_mode_) {
    case ResponseMode::pass:
      add_server_timing(h);
      responder_.send_head(response_head_, length);
      return;
    case ResponseMode::stream:
      add_server_timing(h);
      responder_.send_head(response_head_, std::nullopt);
      return;
    case ResponseMode::buffer:
      if (length && *length > app_.settings().max_response_body) {
        exchange_->abort();
        send_error(502, "upstream response exceeds limits.max_response_body",
                   "upstream.response_too_large");
        return;
      }
      // One allocation for the whole body and the hook's padding (see the request side).
      body_.clear();
      body_.reserve(static_cast<std::size_t>(length.value_or(0)) + kBodyPadding);
      return;
  }
}

void ProxyExchange::check_response_backpressure() {
  if (!response_paused_ && exchange_ &&
      responder_.pending_write_bytes() > app_.settings().high_watermark) {
    response_paused_ = true;
    exchange_->pause_response();
  }
}

void ProxyExchange::on_response_drained() {
  if (response_paused_ && exchange_) {
    response_paused_ = false;
    exchange_->resume_response();
  }
}

void ProxyExchange::on_response_body(std::string_view bytes) {
  if (client_gone_ || phase_ != Phase::Forwarding) return;
  switch (response_mode_) {
    case ResponseMode::pass:
      app_.metrics().response_bytes.inc(bytes.size());
      responder_.send_body(bytes);
      check_response_backpressure();
      return;
    case ResponseMode::stream: {
      out_.clear();
      StreamAction action = timed([&] { return inspection_->on_response_chunk(bytes, out_); });
      std::string_view send = action == StreamAction::forward ? bytes : std::string_view(out_);
      app_.metrics().response_bytes.inc(send.size());
      responder_.send_body(send);
      if (action == StreamAction::end) {
        exchange_->abort();
        finish_response();
        return;
      }
      check_response_backpressure();
      return;
    }
    case ResponseMode::buffer:
      if (body_.size() + bytes.size() > app_.settings().max_response_body) {
        exchange_->abort();
        send_error(502, "upstream response exceeds limits.max_response_body",
                   "upstream.response_too_large");
        phase_ = Phase::Done;
        return;
      }
      body_.append(bytes);
      return;
  }
}

void ProxyExchange::finish_response() {
  phase_ = Phase::Done;
  complete(status_);
  responder_.end();
}

void ProxyExchange::on_response_end() {
  if (client_gone_ || phase_ != Phase::Forwarding) return;
  switch (response_mode_) {
    case ResponseMode::pass:
      finish_response();
      return;
    case ResponseMode::stream:
      out_.clear();
      timed([&] { inspection_->on_response_end(out_); });
      app_.metrics().response_bytes.inc(out_.size());
      responder_.send_body(out_);
      finish_response();
      return;
    case ResponseMode::buffer: {
      const std::size_t padding = padded_body();
      ResponseVerdict v = timed([&] { return inspection_->decide_response(body_, padding); });
      phase_ = Phase::Done;
      switch (v.kind) {
        case ResponseVerdict::Kind::allow:
          app_.metrics().response_bytes.inc(body_.size());
          answer(response_head_, body_);
          return;
        case ResponseVerdict::Kind::rewrite:
          app_.metrics().response_bytes.inc(v.body.size());
          answer(response_head_, v.body);
          return;
        case ResponseVerdict::Kind::answer:
          answer_hook(v.answer);
          return;
      }
      return;
    }
  }
}

void ProxyExchange::on_failure(http::UpstreamFailure failure, const Error& error) {
  app_.metrics().upstream_failure(upstream_.config.name, failure).inc();
  log::warn("proxy.upstream_failed", {{"upstream", log::Safe{upstream_.config.name}},
                                      {"cause", failure},
                                      {"error", error},
                                      {"elapsed", Clock::now() - started_}});
  if (client_gone_ || phase_ == Phase::Done || phase_ == Phase::Answered) return;
  phase_ = Phase::Done;
  std::string message = "upstream " + upstream_.config.name + " failed: " + error.code;
  if (responder_.head_sent()) {
    // The head is out. An inspected stream ends with an error event its client's SDK raises;
    // anything else is cut short, the only honest signal left.
    out_.clear();
    if (response_mode_ == ResponseMode::stream && inspection_ &&
        timed([&] { return inspection_->on_response_failure(message, error.code, out_); })) {
      app_.metrics().response_bytes.inc(out_.size());
      responder_.send_body(out_);
      finish_response();
      return;
    }
    responder_.abort();
    complete(status_);
    return;
  }
  const bool timeout = failure == http::UpstreamFailure::connect_timeout ||
                       failure == http::UpstreamFailure::response_timeout;
  send_error(timeout ? 504 : 502, message, error.code);
}

void ProxyExchange::complete(int status) {
  if (completed_) return;
  completed_ = true;
  auto& m = app_.metrics();
  m.active_requests.sub(1);
  m.latency.observe(seconds_since(started_));
  if (status >= 100 && status < 600) m.requests_by_class[status / 100]->inc();
  if (inspection_) inspection_->on_complete(status);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

ProxyApp::ProxyApp(ProxyMetrics& metrics, std::shared_ptr<InspectionHook> hook, uv_loop_t* loop)
    : metrics_(metrics), hook_(std::move(hook)), releases_(loop, kReleaseHold) {}

void ProxyApp::set_routes(std::shared_ptr<ProxyRoutes> routes, ProxySettings settings) {
  routes_ = std::move(routes);
  settings_ = settings;
}

std::unique_ptr<http::RequestHandler> ProxyApp::on_request(http::RequestHead&& head,
                                                           const http::BodyFraming& framing,
                                                           http::Responder& responder) {
  const ProxyRoutes::Route* route = routes_ ? routes_->match(head.path()) : nullptr;
  if (route == nullptr) {
    http::ResponseHead out;
    out.status = 404;
    out.headers.add("Content-Type", "application/json");
    out.headers.add("Server-Timing", "edgeward;dur=0.000");
    std::string body =
        error_body(dialect_for("auto", head.path()), "no upstream is configured for this path",
                   "edgeward_error", "route.not_found");
    metrics_.requests_by_class[4]->inc();
    responder.respond(out, body);
    return std::make_unique<AnsweredRequest>();
  }
  auto exchange =
      std::make_unique<ProxyExchange>(*this, routes_, *route, std::move(head), framing, responder);
  exchange->start();
  return exchange;
}

}  // namespace edgeward::daemon
