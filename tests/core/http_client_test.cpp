// UpstreamPool / Exchange against an in-process loopback server on the same event loop.
#include "core/net/http_client.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/net/tls.hpp"
#include "core/uv_handle.hpp"

using namespace edgeward;
using namespace edgeward::http;

namespace {

// ---- a scripted loopback server ------------------------------------------------------------

// What the server does once a whole request has arrived.
struct Reply {
  enum class Then { Keep, Close, Reset, Hang };
  std::string bytes;
  Then then = Then::Keep;
};

struct TestServer;

struct ServerConn {
  TestServer* server;
  uv_tcp_t tcp{};
  std::string in;
  std::unique_ptr<tls::TlsSession> tls;
  bool hung = false;
};

struct TestServer {
  uv_loop_t* loop;
  uv_tcp_t* listener = new uv_tcp_t{};  // freed by its close callback
  int port = 0;
  std::function<Reply(const std::string& request)> script;
  std::shared_ptr<tls::TlsContext> tls;
  int connections = 0;
  std::vector<std::string> requests;
  std::set<ServerConn*> open;

  TestServer(uv_loop_t* l, std::function<Reply(const std::string&)> s,
             std::shared_ptr<tls::TlsContext> t = nullptr)
      : loop(l), script(std::move(s)), tls(std::move(t)) {
    uv_tcp_init(loop, listener);
    listener->data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    REQUIRE(uv_tcp_bind(listener, reinterpret_cast<sockaddr*>(&addr), 0) == 0);
    REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(listener), 64, on_connection) == 0);
    sockaddr_in bound{};
    int len = sizeof(bound);
    uv_tcp_getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &len);
    port = ntohs(bound.sin_port);
  }
  ~TestServer() {
    uv_close(reinterpret_cast<uv_handle_t*>(listener),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    for (ServerConn* c : std::set<ServerConn*>(open)) close(c);
  }

  static void on_connection(uv_stream_t* l, int status) {
    if (status < 0) return;
    auto* srv = static_cast<TestServer*>(l->data);
    auto* c = new ServerConn{srv};
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    uv_accept(l, reinterpret_cast<uv_stream_t*>(&c->tcp));
    srv->connections++;
    srv->open.insert(c);
    if (srv->tls) c->tls = std::move(tls::TlsSession::server(srv->tls)).value();
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&c->tcp),
        [](uv_handle_t*, std::size_t, uv_buf_t* b) {
          static char buf[65536];
          *b = uv_buf_init(buf, sizeof(buf));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
          auto* conn = static_cast<ServerConn*>(s->data);
          if (n < 0) {
            close(conn);
            return;
          }
          std::string_view data(b->base, static_cast<std::size_t>(n));
          if (conn->tls) {
            conn->tls->feed_input(data);
            if (!conn->tls->established()) {
              auto hs = conn->tls->handshake();
              flush_tls(conn);
              if (!hs || !hs.value()) {
                if (!hs) close(conn);
                return;
              }
            }
            char plain[65536];
            for (;;) {
              auto got = conn->tls->read_plaintext(plain, sizeof(plain));
              if (!got || got.value() == 0) break;
              conn->in.append(plain, got.value());
            }
          } else {
            conn->in.append(data);
          }
          conn->server->serve(conn);
        });
  }

  // Length of the first complete request in `in` (sized or chunked body), or 0.
  static std::size_t complete_request(const std::string& in) {
    auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    std::string head = in.substr(0, end + 4);
    auto lower = head;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (auto cl = lower.find("content-length: "); cl != std::string::npos) {
      std::size_t n = std::strtoull(lower.c_str() + cl + 16, nullptr, 10);
      return in.size() >= head.size() + n ? head.size() + n : 0;
    }
    if (lower.find("transfer-encoding: chunked") != std::string::npos) {
      auto term = in.find("\r\n0\r\n\r\n", end);
      if (in.compare(end + 4, 5, "0\r\n\r\n") == 0) return end + 9;
      return term == std::string::npos ? 0 : term + 7;
    }
    return head.size();
  }

  void serve(ServerConn* c) {
    while (!c->hung) {
      std::size_t n = complete_request(c->in);
      if (n == 0) return;
      std::string req = c->in.substr(0, n);
      c->in.erase(0, n);
      requests.push_back(req);
      Reply r = script(req);
      write(c, r.bytes);
      switch (r.then) {
        case Reply::Then::Keep:
          break;
        case Reply::Then::Close:
          close(c);
          return;
        case Reply::Then::Reset:
          reset(c);
          return;
        case Reply::Then::Hang:
          c->hung = true;
          return;
      }
    }
  }

  static void flush_tls(ServerConn* c) {
    std::string out;
    c->tls->take_output(out);
    raw_write(c, out);
  }
  static void write(ServerConn* c, const std::string& bytes) {
    if (c->tls) {
      (void)c->tls->write_plaintext(bytes);
      flush_tls(c);
    } else {
      raw_write(c, bytes);
    }
  }
  static void raw_write(ServerConn* c, const std::string& bytes) {
    if (bytes.empty()) return;
    uv_buf_t b = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    // Loopback with small payloads: the kernel takes everything at once.
    int rc = uv_try_write(reinterpret_cast<uv_stream_t*>(&c->tcp), &b, 1);
    REQUIRE(rc == static_cast<int>(bytes.size()));
  }
  static void close(ServerConn* c) {
    if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&c->tcp))) return;
    c->server->open.erase(c);
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete static_cast<ServerConn*>(h->data); });
  }
  static void reset(ServerConn* c) {
    c->server->open.erase(c);
    uv_tcp_close_reset(&c->tcp, [](uv_handle_t* h) { delete static_cast<ServerConn*>(h->data); });
  }
};

// ---- a recording handler -------------------------------------------------------------------

struct Recorder : ExchangeHandler {
  std::optional<ResponseHead> head;
  std::string body;
  int body_calls = 0;
  bool ended = false;
  std::optional<UpstreamFailure> failure;
  Error error;
  int drained = 0;
  bool inside_call = false;  // set by the test around API calls
  bool fired_inside_call = false;
  std::function<void()> on_body_hook;
  std::function<void()> on_head_hook;

  void on_response_head(ResponseHead&& h) override {
    fired_inside_call |= inside_call;
    head = std::move(h);
    if (on_head_hook) on_head_hook();
  }
  void on_response_body(std::string_view b) override {
    fired_inside_call |= inside_call;
    body.append(b);
    body_calls++;
    if (on_body_hook) on_body_hook();
  }
  void on_response_end() override {
    fired_inside_call |= inside_call;
    ended = true;
  }
  void on_failure(UpstreamFailure f, const Error& e) override {
    fired_inside_call |= inside_call;
    failure = f;
    error = e;
  }
  void on_request_body_drained() override { drained++; }
  bool done() const { return ended || failure.has_value(); }
};

// Runs the loop until `pred` holds or `ms` elapse; returns pred().
bool run_until(uv_loop_t* loop, const std::function<bool()>& pred, int ms = 3000) {
  uv::Timer tick;
  REQUIRE(tick.init(uv_timer_init, loop, nullptr).ok());
  uv_timer_start(
      tick.get(), [](uv_timer_t*) {}, 5, 5);
  std::uint64_t until = uv_now(loop) + static_cast<std::uint64_t>(ms);
  while (!pred() && uv_now(loop) < until) uv_run(loop, UV_RUN_ONCE);
  return pred();
}

UpstreamTarget plain_target(int port) {
  UpstreamTarget t;
  t.name = "test";
  t.scheme = "http";
  t.host = "127.0.0.1";
  t.port = static_cast<std::uint16_t>(port);
  t.connect_timeout = std::chrono::milliseconds(1000);
  t.response_timeout = std::chrono::milliseconds(1000);
  return t;
}

RequestHead get(std::string target = "/x") {
  RequestHead h;
  h.method = "GET";
  h.target = std::move(target);
  h.headers.add("Host", "upstream.test");
  return h;
}

RequestHead post(std::string target = "/v1/chat/completions") {
  RequestHead h = get(std::move(target));
  h.method = "POST";
  return h;
}

Reply ok(std::string body) {
  return Reply{
      "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
      Reply::Then::Keep};
}

// One exchange: start, write the body, run to completion.
void exchange(uv_loop_t* loop, UpstreamPool& pool, Recorder& rec, const RequestHead& head,
              std::string_view body = {}) {
  rec.inside_call = true;
  auto ex = pool.start(head, rec);
  ex->write_body(body, true);
  rec.inside_call = false;
  REQUIRE(run_until(loop, [&] { return rec.done(); }));
  if (rec.failure) UNSCOPED_INFO("failure: " << rec.error.code << ": " << rec.error.message);
}

// The test PKI, made once per test binary run with tests/tools/make-test-ca.sh.
const std::string& pki_dir() {
  // Removed at exit, so test runs leave nothing in /tmp.
  struct Dir {
    std::string path;
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir{[] {
    std::string d = (std::filesystem::temp_directory_path() /
                     ("edgeward-tls-test-" + std::to_string(::getpid())))
                        .string();
    REQUIRE(std::system(("tests/tools/make-test-ca.sh " + d).c_str()) == 0);
    return d;
  }()};
  return dir.path;
}

}  // namespace

TEST_CASE("parse_upstream_url accepts scheme://host[:port] and refuses the rest", "[http_client]") {
  auto a = parse_upstream_url("https://api.openai.com");
  REQUIRE(a.ok());
  CHECK(a->scheme == "https");
  CHECK(a->host == "api.openai.com");
  CHECK(a->port == 0);
  auto b = parse_upstream_url("http://127.0.0.1:8080/");
  REQUIRE(b.ok());
  CHECK(b->port == 8080);
  auto c = parse_upstream_url("http://[::1]:9000");
  REQUIRE(c.ok());
  CHECK(c->host == "::1");
  CHECK(parse_upstream_url("api.openai.com").error().code == "upstream.bad_url");
  CHECK(parse_upstream_url("ftp://x").error().code == "upstream.bad_url");
  CHECK(parse_upstream_url("http://").error().code == "upstream.bad_url");
  CHECK(parse_upstream_url("http://x/v1").error().code == "upstream.bad_url");
  CHECK(parse_upstream_url("http://::1").error().code == "upstream.bad_url");
  CHECK(parse_upstream_url("http://x:0").error().code == "upstream.bad_port");
  CHECK(parse_upstream_url("http://x:70000").error().code == "upstream.bad_port");
  CHECK(parse_upstream_url("http://x:").error().code == "upstream.bad_port");
  CHECK(parse_upstream_url("http://x:8o").error().code == "upstream.bad_port");
}

TEST_CASE("keep-alive: sequential exchanges reuse one connection", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("hello"); });
  {
    UpstreamPool pool(loop.get(), plain_target(server.port));
    for (int i = 0; i < 3; ++i) {
      Recorder rec;
      exchange(loop.get(), pool, rec, get());
      CHECK(rec.ended);
      CHECK(rec.head->status == 200);
      CHECK(rec.body == "hello");
      CHECK_FALSE(rec.fired_inside_call);
    }
    CHECK(server.connections == 1);
    CHECK(pool.stats().connections_reused == 2);
    CHECK(pool.stats().idle_connections == 1);
  }
  run_until(
      loop.get(), [] { return false; }, 20);
}

TEST_CASE("a whole body known before the head leaves is sent with Content-Length",
          "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("{}"); });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  exchange(loop.get(), pool, rec, post(), "{\"a\":1}");
  REQUIRE(rec.ended);
  REQUIRE(server.requests.size() == 1);
  CHECK(server.requests[0] ==
        "POST /v1/chat/completions HTTP/1.1\r\nHost: upstream.test\r\nContent-Length: "
        "7\r\n\r\n{\"a\":1}");
}

TEST_CASE("a streamed body without Content-Length is sent chunked", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("{}"); });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  auto ex = pool.start(post(), rec);
  ex->write_body("abc", false);
  REQUIRE(run_until(loop.get(), [&] { return ex->pending_write_bytes() == 0; }));
  ex->write_body("defgh", false);
  ex->write_body("", true);
  REQUIRE(run_until(loop.get(), [&] { return rec.done(); }));
  REQUIRE(rec.ended);
  REQUIRE(server.requests.size() == 1);
  CHECK(server.requests[0] ==
        "POST /v1/chat/completions HTTP/1.1\r\nHost: upstream.test\r\nTransfer-Encoding: "
        "chunked\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n");
}

TEST_CASE("a Content-Length in the head is honoured and a short body fails the exchange",
          "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("{}"); });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  RequestHead h = post();
  h.headers.add("Content-Length", "10");
  exchange(loop.get(), pool, rec, h, "short");
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::bad_request);
  CHECK(rec.error.code == "upstream.body_length_mismatch");
  CHECK_FALSE(rec.fired_inside_call);
}

TEST_CASE("a chunked response is de-chunked for the handler", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) {
    return Reply{
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
        "world\r\n0\r\n\r\n"};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.ended);
  CHECK(rec.body == "hello world");
  CHECK(rec.head->headers.get("Transfer-Encoding") == "chunked");
  CHECK(pool.stats().idle_connections == 1);
}

TEST_CASE("a close-delimited response ends at EOF and its connection is not reused",
          "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) {
    return Reply{"HTTP/1.1 200 OK\r\n\r\nuntil the end", Reply::Then::Close};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.ended);
  CHECK(rec.body == "until the end");
  CHECK(pool.stats().idle_connections == 0);
}

TEST_CASE("1xx interim responses are skipped", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) {
    return Reply{
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  exchange(loop.get(), pool, rec, post(), "x");
  REQUIRE(rec.ended);
  CHECK(rec.head->status == 201);
  CHECK(rec.body == "ok");
}

TEST_CASE("a 1xx response announcing a body is refused: its bytes never reach the client",
          "[http_client]") {
  for (const char* interim : {"HTTP/1.1 102 Processing\r\nContent-Length: 5\r\n\r\nHTTP/",
                              "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nHTTP/\r\n0\r\n\r\n"}) {
    uv::UvLoop loop;
    TestServer server(loop.get(), [&](const std::string&) {
      return Reply{std::string(interim) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
    });
    UpstreamPool pool(loop.get(), plain_target(server.port));
    Recorder rec;
    exchange(loop.get(), pool, rec, post(), "x");
    INFO(interim);
    CHECK(rec.failure);
    CHECK(rec.error.code == "upstream.bad_response");
    CHECK(rec.error.message.find("a 1xx response announcing a body") != std::string::npos);
    CHECK_FALSE(rec.head);
    CHECK(rec.body.empty());
  }
}

TEST_CASE("HEAD and 204 responses have no body and keep the connection", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string& req) {
    if (req.starts_with("HEAD")) return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"};
    return Reply{"HTTP/1.1 204 No Content\r\n\r\n"};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder a;
  RequestHead h = get();
  h.method = "HEAD";
  exchange(loop.get(), pool, a, h);
  REQUIRE(a.ended);
  CHECK(a.body_calls == 0);
  Recorder b;
  exchange(loop.get(), pool, b, get());
  REQUIRE(b.ended);
  CHECK(b.head->status == 204);
  CHECK(b.body_calls == 0);
  CHECK(server.connections == 1);
}

TEST_CASE("connection refused fails with connect_refused, never inside start", "[http_client]") {
  uv::UvLoop loop;
  int port = 0;
  {
    TestServer probe(loop.get(), [](const std::string&) { return ok(""); });
    port = probe.port;
  }
  run_until(
      loop.get(), [] { return false; }, 10);  // let the listener close
  UpstreamPool pool(loop.get(), plain_target(port));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::connect_refused);
  CHECK(rec.error.code == "upstream.connect_failed");
  CHECK_FALSE(rec.fired_inside_call);
}

TEST_CASE("an upstream that never answers fails with response_timeout", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return Reply{"", Reply::Then::Hang}; });
  auto t = plain_target(server.port);
  t.response_timeout = std::chrono::milliseconds(100);
  UpstreamPool pool(loop.get(), t);
  Recorder rec;
  auto started = uv_now(loop.get());
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::response_timeout);
  CHECK(rec.error.code == "upstream.response_timeout");
  CHECK(uv_now(loop.get()) - started >= 100);
  CHECK(uv_now(loop.get()) - started < 1000);
}

TEST_CASE("a reset in the middle of the body fails with reset after the head", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", Reply::Then::Reset};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::reset);
  CHECK(rec.error.code == "upstream.reset");
  CHECK(pool.stats().idle_connections == 0);
}

TEST_CASE("an unparsable response fails with bad_response", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) {
    return Reply{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx"};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::bad_response);
  CHECK(rec.error.code == "upstream.bad_response");
}

TEST_CASE("the handler may destroy its exchange inside a body callback", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) {
    return Reply{
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n"};
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  auto ex = pool.start(get(), rec);
  ex->write_body({}, true);
  rec.on_body_hook = [&] { ex.reset(); };
  REQUIRE(run_until(loop.get(), [&] { return ex == nullptr; }));
  run_until(
      loop.get(), [] { return false; }, 20);
  CHECK(rec.body_calls == 1);
  CHECK_FALSE(rec.done());
  CHECK(pool.stats().idle_connections == 0);  // an aborted exchange never returns to the pool
}

TEST_CASE("pause_response holds the body until resume_response", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("held body"); });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  auto ex = pool.start(get(), rec);
  ex->write_body({}, true);
  rec.on_head_hook = [&] { ex->pause_response(); };
  REQUIRE(run_until(loop.get(), [&] { return rec.head.has_value(); }));
  run_until(
      loop.get(), [] { return false; }, 30);
  CHECK(rec.body_calls == 0);
  CHECK_FALSE(rec.ended);
  rec.inside_call = true;
  ex->resume_response();
  rec.inside_call = false;
  REQUIRE(run_until(loop.get(), [&] { return rec.done(); }));
  CHECK(rec.ended);
  CHECK(rec.body == "held body");
  CHECK_FALSE(rec.fired_inside_call);
  // The response ended while paused; its connection still serves the next exchange.
  Recorder next;
  exchange(loop.get(), pool, next, get());
  CHECK(next.ended);
  CHECK(next.body == "held body");
  CHECK(server.connections == 1);
}

TEST_CASE("pending_write_bytes reports what the kernel did not take, then drained fires",
          "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(),
                    [](const std::string& req) { return ok(std::to_string(req.size())); });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder rec;
  RequestHead h = post();
  const std::string big(16u << 20, 'x');  // more than loopback socket buffers hold at once
  h.headers.add("Content-Length", std::to_string(big.size()));
  auto ex = pool.start(h, rec);
  REQUIRE(run_until(loop.get(), [&] { return server.connections == 1; }));
  ex->write_body(big, true);
  CHECK(ex->pending_write_bytes() > 0);
  REQUIRE(run_until(
      loop.get(), [&] { return rec.done(); }, 10000));
  CHECK(rec.ended);
  CHECK(rec.drained == 1);
  CHECK(ex->pending_write_bytes() == 0);
  REQUIRE(server.requests.size() == 1);
  CHECK(server.requests[0].size() > big.size());
}

TEST_CASE("request body drained fires at the low watermark, before the queue is empty",
          "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(),
                    [](const std::string& req) { return ok(std::to_string(req.size())); });
  // A generous response timeout: draining 32 MiB on a loaded machine is not what this tests.
  UpstreamTarget target = plain_target(server.port);
  target.response_timeout = std::chrono::milliseconds(20000);
  UpstreamPool pool(loop.get(), target);
  struct AtLow : Recorder {
    Exchange* ex = nullptr;
    std::vector<std::size_t> pending_at_drain;
    void on_request_body_drained() override {
      Recorder::on_request_body_drained();
      pending_at_drain.push_back(ex->pending_write_bytes());
    }
  } rec;
  constexpr std::size_t kPiece = 256u << 10, kPieces = 128, kLow = 8u << 20;  // 32 MiB in all
  RequestHead h = post();
  h.headers.add("Content-Length", std::to_string(kPiece * kPieces));
  auto ex = pool.start(h, rec);
  rec.ex = ex.get();
  ex->set_request_low_watermark(kLow);
  REQUIRE(run_until(loop.get(), [&] { return server.connections == 1; }));
  const std::string piece(kPiece, 'x');
  for (std::size_t i = 0; i < kPieces; ++i) ex->write_body(piece, i + 1 == kPieces);
  REQUIRE(ex->pending_write_bytes() > kLow);  // loopback buffers hold far less than 24 MiB
  REQUIRE(run_until(
      loop.get(), [&] { return rec.done(); }, 20000));
  CHECK(rec.ended);
  REQUIRE(rec.pending_at_drain.size() == 1);
  CHECK(rec.pending_at_drain[0] <= kLow);
  CHECK(rec.pending_at_drain[0] > 0);
}

TEST_CASE("the response timeout does not run out while the upstream is still reading the body",
          "[http_client]") {
  // A plain-socket upstream with a small receive buffer that takes at most 64 KiB every 40 ms
  // (4 MiB take about 2.5 s, five response_timeouts), then answers.
  constexpr std::size_t kBody = 4u << 20, kPiece = 64u << 10;
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 64 * 1024;
  ::setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t len = sizeof a;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return;
    int c = ::accept(listener, nullptr, nullptr);
    std::string got;
    std::vector<char> buf(kPiece);
    std::size_t want = std::string::npos;
    while (!stop && (want == std::string::npos || got.size() < want)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
      ssize_t n = ::recv(c, buf.data(), buf.size(), MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) got.append(buf.data(), static_cast<std::size_t>(n));
      if (auto e = got.find("\r\n\r\n"); e != std::string::npos) want = e + 4 + kBody;
    }
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    (void)!::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::close(c);
  });
  uv::UvLoop loop;
  UpstreamTarget t = plain_target(ntohs(a.sin_port));
  t.response_timeout = std::chrono::milliseconds(500);
  UpstreamPool pool(loop.get(), t);
  Recorder rec;
  RequestHead h = post();
  h.headers.add("Content-Length", std::to_string(kBody));
  auto ex = pool.start(h, rec);
  const std::string piece(kPiece, 'x');
  for (std::size_t i = 0; i < kBody / kPiece; ++i) ex->write_body(piece, i + 1 == kBody / kPiece);
  const bool done = run_until(
      loop.get(), [&] { return rec.done(); }, 20000);
  stop = true;
  reader.join();
  ::close(listener);
  REQUIRE(done);
  INFO((rec.failure ? std::string(to_string(*rec.failure)) : std::string("no failure")));
  CHECK(rec.ended);
  CHECK(rec.body == "ok");
}

TEST_CASE("an idle connection older than idle_expiry is closed, not reused", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("x"); });
  auto t = plain_target(server.port);
  t.idle_expiry = std::chrono::milliseconds(30);
  UpstreamPool pool(loop.get(), t);
  Recorder a;
  exchange(loop.get(), pool, a, get());
  REQUIRE(pool.stats().idle_connections == 1);
  REQUIRE(run_until(
      loop.get(), [&] { return pool.stats().idle_connections == 0; }, 500));
  Recorder b;
  exchange(loop.get(), pool, b, get());
  CHECK(b.ended);
  CHECK(server.connections == 2);
}

TEST_CASE("a request on a reused connection the upstream just closed is replayed once",
          "[http_client]") {
  uv::UvLoop loop;
  // The server closes every connection right after its response, without saying so: the
  // client parks the connection and only learns from the EOF that follows.
  TestServer server(loop.get(), [](const std::string&) {
    Reply r = ok("fresh");
    r.then = Reply::Then::Close;
    return r;
  });
  UpstreamPool pool(loop.get(), plain_target(server.port));
  Recorder first, second;
  std::unique_ptr<Exchange> next;
  // Start the second exchange inside the first one's end callback, before the EOF is read:
  // it takes the doomed connection from the pool.
  struct EndHook : Recorder {
    std::function<void()> then;
    void on_response_end() override {
      Recorder::on_response_end();
      then();
    }
  } hook;
  hook.then = [&] {
    next = pool.start(post(), second);
    next->write_body("{\"n\":2}", true);
  };
  auto ex = pool.start(get(), hook);
  ex->write_body({}, true);
  REQUIRE(run_until(loop.get(), [&] { return second.done(); }));
  CHECK(second.ended);
  CHECK(second.body == "fresh");
  CHECK(pool.stats().connections_reused == 1);
  CHECK(server.connections == 2);
  REQUIRE(server.requests.size() == 2);
  CHECK(server.requests[1].ends_with("\r\n\r\n{\"n\":2}"));
  (void)first;
}

TEST_CASE("abort while resolving or connecting fires nothing and leaves nothing behind",
          "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("unused"); });
  auto t = plain_target(server.port);
  t.host = "localhost";  // goes through the resolver
  Recorder resolving, connecting;
  {
    UpstreamPool pool(loop.get(), t);
    auto a = pool.start(get(), resolving);
    a->write_body({}, true);
    a->abort();
    CHECK(a->finished());
    UpstreamPool direct(loop.get(), plain_target(server.port));
    auto b = direct.start(get(), connecting);
    b->write_body({}, true);
    b.reset();  // destroying the handle aborts too
  }
  run_until(
      loop.get(), [] { return false; }, 50);
  CHECK_FALSE(resolving.head.has_value());
  CHECK_FALSE(resolving.done());
  CHECK_FALSE(connecting.done());
  CHECK(server.requests.empty());
}

TEST_CASE("an exchange in flight survives the destruction of its pool", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("late"); });
  Recorder rec;
  std::unique_ptr<Exchange> ex;
  {
    UpstreamPool pool(loop.get(), plain_target(server.port));
    ex = pool.start(get(), rec);
    ex->write_body({}, true);
  }
  REQUIRE(run_until(loop.get(), [&] { return rec.done(); }));
  CHECK(rec.ended);
  CHECK(rec.body == "late");
}

TEST_CASE("a host name is resolved asynchronously (localhost)", "[http_client]") {
  uv::UvLoop loop;
  TestServer server(loop.get(), [](const std::string&) { return ok("resolved"); });
  auto t = plain_target(server.port);
  t.host = "localhost";  // may resolve to ::1 first: the client falls back to 127.0.0.1
  UpstreamPool pool(loop.get(), t);
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.ended);
  CHECK(rec.body == "resolved");
}

// ---- TLS -------------------------------------------------------------------------------------

namespace {
std::shared_ptr<tls::TlsContext> server_ctx(const std::string& name) {
  auto ctx =
      tls::TlsContext::server(pki_dir() + "/" + name + ".pem", pki_dir() + "/" + name + ".key");
  REQUIRE(ctx.ok());
  return ctx.value();
}

UpstreamTarget tls_target(int port, std::string host) {
  auto t = plain_target(port);
  t.scheme = "https";
  t.host = std::move(host);
  t.tls.ca_file = pki_dir() + "/ca.pem";
  return t;
}
}  // namespace

TEST_CASE("TLS with verification against the test CA succeeds and reuses the connection",
          "[http_client][tls]") {
  uv::UvLoop loop;
  TestServer server(
      loop.get(), [](const std::string&) { return ok("secure"); }, server_ctx("server"));
  UpstreamPool pool(loop.get(), tls_target(server.port, "127.0.0.1"));
  for (int i = 0; i < 2; ++i) {
    Recorder rec;
    exchange(loop.get(), pool, rec, post(), "{\"x\":1}");
    REQUIRE(rec.ended);
    CHECK(rec.body == "secure");
  }
  CHECK(server.connections == 1);
  CHECK(server.requests.at(0).ends_with("\r\n\r\n{\"x\":1}"));
}

TEST_CASE("TLS by host name sends SNI and verifies the name", "[http_client][tls]") {
  uv::UvLoop loop;
  TestServer server(
      loop.get(), [](const std::string&) { return ok("named"); }, server_ctx("server"));
  UpstreamPool pool(loop.get(), tls_target(server.port, "localhost"));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.ended);
  CHECK(rec.body == "named");
}

TEST_CASE("TLS to a certificate for another host name is refused", "[http_client][tls]") {
  uv::UvLoop loop;
  TestServer server(
      loop.get(), [](const std::string&) { return ok("no"); }, server_ctx("wrong-host"));
  UpstreamPool pool(loop.get(), tls_target(server.port, "127.0.0.1"));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::tls);
  CHECK(rec.error.code == "tls.verify_failed");
  CHECK_THAT(rec.error.message, Catch::Contains("mismatch"));
  CHECK(server.requests.empty());
}

TEST_CASE("TLS to a certificate from an unknown CA is refused", "[http_client][tls]") {
  uv::UvLoop loop;
  TestServer server(
      loop.get(), [](const std::string&) { return ok("no"); }, server_ctx("untrusted"));
  UpstreamPool pool(loop.get(), tls_target(server.port, "127.0.0.1"));
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::tls);
  CHECK(rec.error.code == "tls.verify_failed");
  CHECK_THAT(rec.error.message, Catch::Contains("issuer"));
  CHECK(server.requests.empty());
}

TEST_CASE("TLS with verify off accepts any certificate", "[http_client][tls]") {
  uv::UvLoop loop;
  TestServer server(
      loop.get(), [](const std::string&) { return ok("anyway"); }, server_ctx("untrusted"));
  auto t = tls_target(server.port, "127.0.0.1");
  t.tls.verify = false;
  UpstreamPool pool(loop.get(), t);
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.ended);
  CHECK(rec.body == "anyway");
}

TEST_CASE("TLS with a missing CA file fails with tls.bad_ca_file", "[http_client][tls]") {
  uv::UvLoop loop;
  auto t = tls_target(1, "127.0.0.1");
  t.tls.ca_file = "/nonexistent/ca.pem";
  UpstreamPool pool(loop.get(), t);
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::tls);
  CHECK(rec.error.code == "tls.bad_ca_file");
  CHECK_FALSE(rec.fired_inside_call);
}

TEST_CASE("a TLS upstream that never answers the handshake fails with connect_timeout",
          "[http_client][tls]") {
  uv::UvLoop loop;
  // A plain TCP server that reads the ClientHello and says nothing.
  TestServer server(loop.get(), [](const std::string&) { return ok("never"); });
  auto t = tls_target(server.port, "127.0.0.1");
  t.connect_timeout = std::chrono::milliseconds(100);
  UpstreamPool pool(loop.get(), t);
  Recorder rec;
  exchange(loop.get(), pool, rec, get());
  REQUIRE(rec.failure.has_value());
  CHECK(*rec.failure == UpstreamFailure::connect_timeout);
  CHECK(rec.error.code == "upstream.connect_timeout");
  CHECK(server.requests.empty());
}
