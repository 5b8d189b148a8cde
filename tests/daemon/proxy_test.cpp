// The proxy pipeline in one process: a test upstream (HttpServer), the ProxyApp in front of it
// with a test inspection hook, and blocking test clients.
#include "daemon/proxy.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "core/uv_handle.hpp"
#include "tests/daemon/socket_client.hpp"

using namespace edgeward;
using namespace edgeward::daemon;
using namespace std::chrono_literals;
using edgeward::testing::body_of;
using edgeward::testing::ClientSocket;
using edgeward::testing::status_of;

namespace {

// What the upstream saw of the last request.
struct Seen {
  std::mutex mu;
  http::RequestHead head;
  std::string body;
  int count = 0;
};

// The test upstream. Paths: /sse and /sse-stop stream three events 30 ms apart (the second of
// /sse-stop carries "STOP"); /hang never answers; /reset closes without answering; /json-secret
// answers JSON containing SECRET; anything else echoes the request body as JSON.
class UpstreamApp : public http::HttpApp {
 public:
  explicit UpstreamApp(uv_loop_t* loop, Seen& seen) : loop_(loop), seen_(seen) {}

  class Handler : public http::RequestHandler {
   public:
    Handler(UpstreamApp& app, http::RequestHead head, http::Responder& r)
        : app_(app), head_(std::move(head)), r_(r) {}
    void on_request_body(std::string_view b) override { body_.append(b); }
    void on_request_end() override {
      {
        std::lock_guard lock(app_.seen_.mu);
        app_.seen_.head = head_;
        app_.seen_.body = body_;
        ++app_.seen_.count;
      }
      const std::string_view path = head_.path();
      http::ResponseHead h;
      if (path == "/hang") return;
      if (path == "/reset") {
        r_.abort();
        return;
      }
      if (path == "/sse" || path == "/sse-stop") {
        h.headers.add("Content-Type", "text/event-stream");
        r_.send_head(h, std::nullopt);
        r_.send_body("data: {\"n\":1}\n\n");
        (void)timer_.init(uv_timer_init, app_.loop_, this);
        uv_timer_start(
            timer_.get(),
            [](uv_timer_t* t) {
              auto* self = static_cast<Handler*>(t->data);
              if (self == nullptr || self->gone_) return;
              ++self->sent_;
              if (self->sent_ == 1) {
                self->r_.send_body(self->head_.path() == "/sse-stop" ? "data: STOP\n\n"
                                                                     : "data: {\"n\":2}\n\n");
              } else {
                self->r_.send_body("data: [DONE]\n\n");
                self->r_.end();
                uv_timer_stop(t);
              }
            },
            30, 30);
        return;
      }
      h.headers.add("Content-Type", "application/json");
      h.headers.add("Connection", "X-Hop");
      h.headers.add("X-Hop", "must not pass");
      h.headers.add("Keep-Alive", "timeout=5");
      if (path == "/json-secret") {
        r_.respond(h, "{\"text\":\"the SECRET is here\"}");
        return;
      }
      r_.respond(h, body_);
    }
    void on_client_gone() override { gone_ = true; }

   private:
    UpstreamApp& app_;
    http::RequestHead head_;
    http::Responder& r_;
    std::string body_;
    uv::Timer timer_;
    int sent_ = 0;
    bool gone_ = false;
  };

  std::unique_ptr<http::RequestHandler> on_request(http::RequestHead&& head,
                                                   const http::BodyFraming&,
                                                   http::Responder& r) override {
    return std::make_unique<Handler>(*this, std::move(head), r);
  }

  uv_loop_t* loop_;
  Seen& seen_;
};

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

// Buffered bodies the hook saw, and those without the promised padding after them.
std::atomic<int> g_buffered_bodies{0};
std::atomic<int> g_short_padding{0};
void note_padding(std::size_t padding) {
  ++g_buffered_bodies;
  if (padding < kBodyPadding) ++g_short_padding;
}

// Blocks bodies with BLOCKME, rewrites REWRITE, hides SECRET in buffered JSON responses, ends
// streams at a STOP event.
class TestInspection : public RequestInspection {
 public:
  explicit TestInspection(ApiDialect dialect) : dialect_(dialect) {}
  bool wants_request_body() const override { return true; }
  RequestVerdict decide_request(http::RequestHead&, std::string_view body,
                                std::size_t padding) override {
    note_padding(padding);
    RequestVerdict v;
    if (body.find("BLOCKME") != std::string_view::npos) {
      v.kind = RequestVerdict::Kind::answer;
      v.answer.status = 403;
      v.answer.headers.add("Content-Type", "application/json");
      v.answer.headers.add("Edgeward-Reason", "POLICY.CUSTOM");
      v.answer.body = error_body(dialect_, "blocked by edgeward: POLICY.CUSTOM (rule test)",
                                 "edgeward_block", "POLICY.CUSTOM");
    } else if (body.find("REWRITE") != std::string_view::npos) {
      v.kind = RequestVerdict::Kind::rewrite;
      v.body = replace_all(std::string(body), "REWRITE", "[redacted]");
    }
    return v;
  }
  ResponseMode on_response_head(http::ResponseHead& head) override {
    auto type = head.headers.get("Content-Type").value_or("");
    if (type == "text/event-stream") return ResponseMode::stream;
    if (type == "application/json") return ResponseMode::buffer;
    return ResponseMode::pass;
  }
  ResponseVerdict decide_response(std::string_view body, std::size_t padding) override {
    note_padding(padding);
    ResponseVerdict v;
    if (body.find("SECRET") != std::string_view::npos) {
      v.kind = ResponseVerdict::Kind::rewrite;
      v.body = replace_all(std::string(body), "SECRET", "[hidden]");
    }
    return v;
  }
  StreamAction on_response_chunk(std::string_view chunk, std::string& out) override {
    if (chunk.find("STOP") != std::string_view::npos) {
      out = "data: {\"error\":\"ended by edgeward\"}\n\n";
      return StreamAction::end;
    }
    return StreamAction::forward;
  }
  void on_response_end(std::string&) override {}

 private:
  ApiDialect dialect_;
};

class TestHook : public InspectionHook {
 public:
  std::unique_ptr<RequestInspection> begin(const RouteInfo& route,
                                           const http::RequestHead&) override {
    return std::make_unique<TestInspection>(route.dialect);
  }
};

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Upstream + proxy on one loop thread.
class ProxyFixture {
 public:
  explicit ProxyFixture(bool with_hook = true) : metrics_(registry_) {
    upstream_app_ = std::make_unique<UpstreamApp>(loop_.get(), seen);
    upstream_ =
        std::make_unique<http::HttpServer>(loop_.get(), *upstream_app_, http::ServerLimits{});
    REQUIRE(upstream_->listen("127.0.0.1:0", false));
    const std::uint16_t up_port = upstream_->local_port();

    Config config;
    UpstreamConfig main;
    main.name = "main";
    main.url = "http://127.0.0.1:" + std::to_string(up_port);
    main.routes = {"/"};
    main.response_timeout = 400ms;
    main.headers.add("Authorization", "Bearer injected-key");
    UpstreamConfig down;
    down.name = "down";
    down.url = "http://127.0.0.1:" + std::to_string(free_port());
    down.routes = {"/down/", "/down-anthropic/v1/messages"};
    down.connect_timeout = 1s;
    config.upstreams = {main, down};

    std::shared_ptr<InspectionHook> hook;
    if (with_hook) hook = std::make_shared<TestHook>();
    app_ = std::make_unique<ProxyApp>(metrics_, hook, loop_.get());
    auto routes = ProxyRoutes::build(loop_.get(), config);
    REQUIRE(routes);
    app_->set_routes(*routes, ProxySettings{});
    front_ = std::make_unique<http::HttpServer>(loop_.get(), *app_, http::ServerLimits{});
    REQUIRE(front_->listen("127.0.0.1:0", false));
    port = front_->local_port();

    REQUIRE(uv_async_init(loop_.get(), &stop_, [](uv_async_t* a) {
              auto* self = static_cast<ProxyFixture*>(a->data);
              self->front_.reset();
              self->app_.reset();
              self->upstream_.reset();
              self->upstream_app_.reset();
              uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
            }) == 0);
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(loop_.get(), UV_RUN_DEFAULT); });
  }
  ~ProxyFixture() {
    uv_async_send(&stop_);
    thread_.join();
  }

  std::string metrics_text() { return registry_.render(); }

  Seen seen;
  std::uint16_t port = 0;

 private:
  uv::UvLoop loop_;
  MetricsRegistry registry_;
  ProxyMetrics metrics_;
  std::unique_ptr<UpstreamApp> upstream_app_;
  std::unique_ptr<http::HttpServer> upstream_;
  std::unique_ptr<ProxyApp> app_;
  std::unique_ptr<http::HttpServer> front_;
  uv_async_t stop_{};
  std::thread thread_;
};

std::string post(std::string_view path, std::string_view body, std::string_view extra = {}) {
  return "POST " + std::string(path) + " HTTP/1.1\r\nHost: gateway\r\nContent-Type: " +
         "application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "\r\n" + std::string(body);
}

}  // namespace

TEST_CASE("proxy forwards with Host rewritten, hop-by-hop removed and the key injected",
          "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/v1/chat/completions", "{\"messages\":[]}",
                      "Connection: keep-alive, X-Private\r\nX-Private: 1\r\nTE: trailers\r\n"
                      "Keep-Alive: timeout=5\r\nProxy-Authorization: x\r\nX-Kept: yes\r\n"
                      "Edgeward-Session: s-1\r\n")));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "{\"messages\":[]}");
  CHECK(r.find("Server-Timing: edgeward;dur=") != std::string::npos);
  CHECK(r.find("X-Hop") == std::string::npos);
  CHECK(r.find("Keep-Alive") == std::string::npos);
  std::lock_guard lock(f.seen.mu);
  const auto& h = f.seen.head.headers;
  CHECK(h.get("Host")->find("127.0.0.1:") == 0);
  CHECK(h.get("Authorization") == "Bearer injected-key");
  CHECK(h.get("X-Kept") == "yes");
  CHECK_FALSE(h.has("X-Private"));
  CHECK_FALSE(h.has("TE"));
  CHECK_FALSE(h.has("Keep-Alive"));
  CHECK_FALSE(h.has("Proxy-Authorization"));
  CHECK_FALSE(h.has("Edgeward-Session"));
  CHECK(h.get("Content-Length") == "15");
}

TEST_CASE("headers named in Connection are dropped whatever their case and repetition", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/v1/chat/completions", "{}",
                      "Connection: x-private, X-PRIVATE,,x-other\r\nConnection: X-Third\r\n"
                      "X-Private: 1\r\nx-other: 2\r\nX-THIRD: 3\r\nX-Kept: yes\r\n")));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  std::lock_guard lock(f.seen.mu);
  const auto& h = f.seen.head.headers;
  CHECK_FALSE(h.has("X-Private"));
  CHECK_FALSE(h.has("X-Other"));
  CHECK_FALSE(h.has("X-Third"));
  CHECK(h.get("X-Kept") == "yes");
}

TEST_CASE("proxy forwards a chunked request body byte-exact", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(
      c.send("POST /v1/embeddings HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\n{\"a\":\r\n4\r\n\"b\"}\r\n0\r\n\r\n"));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "{\"a\":\"b\"}");
  std::lock_guard lock(f.seen.mu);
  CHECK(f.seen.body == "{\"a\":\"b\"}");
}

TEST_CASE("hook blocks a request containing the marker and nothing reaches the upstream",
          "[proxy][hook]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/v1/chat/completions", "{\"content\":\"please BLOCKME now\"}")));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 403);
  CHECK(r.find("Edgeward-Reason: POLICY.CUSTOM") != std::string::npos);
  CHECK(r.find("Server-Timing: edgeward;dur=") != std::string::npos);
  CHECK(body_of(r) ==
        "{\"error\":{\"message\":\"blocked by edgeward: POLICY.CUSTOM (rule test)\",\"type\":"
        "\"edgeward_block\",\"code\":\"POLICY.CUSTOM\",\"param\":null}}");
  std::lock_guard lock(f.seen.mu);
  CHECK(f.seen.count == 0);
}

TEST_CASE("hook rewrites a request body and the upstream gets the new length", "[proxy][hook]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/v1/chat/completions", "{\"content\":\"REWRITE me\"}")));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  std::lock_guard lock(f.seen.mu);
  CHECK(f.seen.body == "{\"content\":\"[redacted] me\"}");
  CHECK(f.seen.head.headers.get("Content-Length") == std::to_string(f.seen.body.size()));
}

TEST_CASE("hook gets every buffered body with kBodyPadding readable bytes after it",
          "[proxy][hook]") {
  ProxyFixture f;
  const int before = g_buffered_bodies.load();
  {
    ClientSocket c(f.port);
    REQUIRE(c.send(post("/v1/chat/completions", std::string(5000, 'a'))));
    CHECK(status_of(c.read_response(3s)) == 200);
  }
  {
    ClientSocket c(f.port);  // chunked: the body grows as it comes, padding added at the end
    REQUIRE(
        c.send("POST /v1/embeddings HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n"
               "\r\n5\r\n{\"a\":\r\n4\r\n\"b\"}\r\n0\r\n\r\n"));
    CHECK(status_of(c.read_response(3s)) == 200);
  }
  {
    ClientSocket c(f.port);  // a buffered JSON response
    REQUIRE(c.send("GET /json-secret HTTP/1.1\r\nHost: g\r\n\r\n"));
    CHECK(status_of(c.read_response(3s)) == 200);
  }
  CHECK(g_buffered_bodies.load() >= before + 3);
  CHECK(g_short_padding.load() == 0);
}

TEST_CASE("hook rewrites a buffered JSON response", "[proxy][hook]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send("GET /json-secret HTTP/1.1\r\nHost: g\r\n\r\n"));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "{\"text\":\"the [hidden] is here\"}");
}

TEST_CASE("proxy streams SSE events through as they arrive", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send("GET /sse HTTP/1.1\r\nHost: g\r\n\r\n"));
  // The first event arrives before the upstream has sent the second (30 ms later).
  std::string first = c.read_until("{\"n\":1}", 2s);
  CHECK(first.find("{\"n\":1}") != std::string::npos);
  CHECK(first.find("{\"n\":2}") == std::string::npos);
  std::string rest = first + c.read_until("\r\n0\r\n\r\n", 3s);
  CHECK(rest.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(body_of(rest) == "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n");
}

TEST_CASE("hook ends a stream with a final event", "[proxy][hook]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send("GET /sse-stop HTTP/1.1\r\nHost: g\r\n\r\n"));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "data: {\"n\":1}\n\ndata: {\"error\":\"ended by edgeward\"}\n\n");
  // The connection stays usable after a stream ended by the hook.
  REQUIRE(c.send(post("/v1/chat/completions", "{}")));
  CHECK(status_of(c.read_response(3s)) == 200);
}

TEST_CASE("upstream refused gives 502 edgeward_upstream_error", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/down/v1/chat/completions", "{}")));
  std::string r = c.read_response(5s);
  CHECK(status_of(r) == 502);
  CHECK(body_of(r).find("\"type\":\"edgeward_upstream_error\"") != std::string::npos);
  CHECK(body_of(r).find("\"code\":\"upstream.connect_failed\"") != std::string::npos);
}

TEST_CASE("upstream failure answers an anthropic route in the anthropic shape", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/down-anthropic/v1/messages", "{}")));
  std::string r = c.read_response(5s);
  CHECK(status_of(r) == 502);
  CHECK(body_of(r).rfind("{\"type\":\"error\",\"error\":{\"type\":\"edgeward_upstream_error\"",
                         0) == 0);
}

TEST_CASE("hung upstream gives 504 after response_timeout", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(c.send("GET /hang HTTP/1.1\r\nHost: g\r\n\r\n"));
  std::string r = c.read_response(5s);
  CHECK(status_of(r) == 504);
  CHECK(body_of(r).find("upstream.response_timeout") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 >= 400ms);
}

TEST_CASE("upstream reset gives 502", "[proxy]") {
  ProxyFixture f;
  ClientSocket c(f.port);
  REQUIRE(c.send("GET /reset HTTP/1.1\r\nHost: g\r\n\r\n"));
  std::string r = c.read_response(5s);
  CHECK(status_of(r) == 502);
  CHECK(body_of(r).find("edgeward_upstream_error") != std::string::npos);
}

TEST_CASE("proxy without a hook forwards bodies unchanged", "[proxy]") {
  ProxyFixture f(false);
  ClientSocket c(f.port);
  REQUIRE(c.send(post("/v1/chat/completions", "{\"content\":\"BLOCKME REWRITE\"}")));
  std::string r = c.read_response(3s);
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "{\"content\":\"BLOCKME REWRITE\"}");
  CHECK(r.find("Server-Timing: edgeward;dur=0.000") != std::string::npos);
}

TEST_CASE("proxy counts requests by status class in the metrics", "[proxy]") {
  ProxyFixture f(false);
  {
    ClientSocket c(f.port);
    REQUIRE(c.send(post("/v1/chat/completions", "{}")));
    REQUIRE(status_of(c.read_response(3s)) == 200);
  }
  // The body may reach the client a moment before the exchange is counted (another thread).
  std::string m = f.metrics_text();
  for (int i = 0;
       i < 100 && m.find("edgeward_http_request_duration_seconds_count 1\n") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(10ms);
    m = f.metrics_text();
  }
  CHECK(m.find("edgeward_http_requests_total{class=\"2xx\"} 1\n") != std::string::npos);
  CHECK(m.find("edgeward_http_request_duration_seconds_count 1\n") != std::string::npos);
}
