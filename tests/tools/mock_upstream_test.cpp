// The mock upstream, as a process, driven by Edgeward's own upstream client: pins the
// behaviours other test suites rely on, and TLS to a real separate process with the test CA.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/net/http_client.hpp"
#include "core/uv_handle.hpp"

using namespace edgeward;
using namespace edgeward::http;
namespace fs = std::filesystem;

namespace {

// A temp directory removed on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "edgeward-mock-test.XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The mock upstream process: started with --port-file, stopped (SIGTERM, then SIGKILL) and
// reaped on destruction.
struct MockProcess {
  pid_t pid = -1;
  int port = 0;

  explicit MockProcess(const TempDir& dir, std::vector<std::string> extra = {}) {
    fs::path port_file = dir.path / "port";
    std::vector<std::string> args = {EDGEWARD_MOCK_UPSTREAM, "--listen", "127.0.0.1:0",
                                     "--port-file", port_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);  // the "listening on" line
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      std::ifstream in(port_file);
      if (in >> port && port > 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("mock upstream did not start");
  }
  ~MockProcess() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

struct Collect : ExchangeHandler {
  std::optional<ResponseHead> head;
  std::string body;
  std::vector<std::string> pieces;
  bool ended = false;
  std::optional<UpstreamFailure> failure;
  Error error;
  void on_response_head(ResponseHead&& h) override { head = std::move(h); }
  void on_response_body(std::string_view b) override {
    body.append(b);
    pieces.emplace_back(b);
  }
  void on_response_end() override { ended = true; }
  void on_failure(UpstreamFailure f, const Error& e) override {
    failure = f;
    error = e;
  }
  bool done() const { return ended || failure.has_value(); }
};

bool run_until(uv_loop_t* loop, const std::function<bool()>& pred, int ms = 5000) {
  uv::Timer tick;
  REQUIRE(tick.init(uv_timer_init, loop, nullptr).ok());
  uv_timer_start(
      tick.get(), [](uv_timer_t*) {}, 5, 5);
  auto until = uv_now(loop) + static_cast<std::uint64_t>(ms);
  while (!pred() && uv_now(loop) < until) uv_run(loop, UV_RUN_ONCE);
  return pred();
}

UpstreamTarget target(int port, std::string scheme = "http", std::string host = "127.0.0.1") {
  UpstreamTarget t;
  t.name = "mock";
  t.scheme = std::move(scheme);
  t.host = std::move(host);
  t.port = static_cast<std::uint16_t>(port);
  t.connect_timeout = std::chrono::milliseconds(2000);
  t.response_timeout = std::chrono::milliseconds(2000);
  return t;
}

RequestHead request(std::string method, std::string target_path) {
  RequestHead h;
  h.method = std::move(method);
  h.target = std::move(target_path);
  h.headers.add("Host", "mock.test");
  return h;
}

Collect call(uv_loop_t* loop, UpstreamPool& pool, RequestHead head, std::string_view body = {}) {
  Collect c;
  auto ex = pool.start(head, c);
  ex->write_body(body, true);
  REQUIRE(run_until(loop, [&] { return c.done(); }));
  return c;
}

}  // namespace

TEST_CASE("mock answers chat completions with the request's model", "[mock_upstream]") {
  TempDir dir;
  MockProcess mock(dir);
  uv::UvLoop loop;
  UpstreamPool pool(loop.get(), target(mock.port));
  auto c = call(loop.get(), pool, request("POST", "/v1/chat/completions"),
                R"({"model":"gpt-test","messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(c.ended);
  CHECK(c.head->status == 200);
  CHECK(c.head->headers.get("Content-Type") == "application/json");
  CHECK_THAT(c.body, Catch::Contains(R"("model":"gpt-test")"));
  CHECK_THAT(c.body, Catch::Contains(R"("content":"Hello from the mock upstream.")"));
}

TEST_CASE("mock streams OpenAI SSE, one event per chunk, ending in [DONE]", "[mock_upstream]") {
  TempDir dir;
  MockProcess mock(dir);
  uv::UvLoop loop;
  UpstreamPool pool(loop.get(), target(mock.port));
  auto head = request("POST", "/v1/chat/completions?events=3&interval_ms=20");
  head.headers.add("X-Mock-Reply", "abcdef");
  auto started = uv_now(loop.get());
  auto c = call(loop.get(), pool, head, R"({"model":"m","stream":true})");
  REQUIRE(c.ended);
  CHECK(uv_now(loop.get()) - started >= 40);  // the interval is honoured
  CHECK(c.head->headers.get("Content-Type") == "text/event-stream");
  CHECK_THAT(c.body, Catch::Contains(R"("delta":{"role":"assistant","content":"ab"})"));
  CHECK_THAT(c.body, Catch::Contains(R"("delta":{"content":"cd"})"));
  CHECK_THAT(c.body, Catch::Contains(R"("delta":{"content":"ef"})"));
  CHECK_THAT(c.body, Catch::EndsWith("data: [DONE]\n\n"));
  CHECK(c.pieces.size() >= 3);  // timed events arrive as separate reads
}

TEST_CASE("mock echoes what reached it and records it for /__mock/requests", "[mock_upstream]") {
  TempDir dir;
  MockProcess mock(dir);
  uv::UvLoop loop;
  UpstreamPool pool(loop.get(), target(mock.port));
  auto head = request("PUT", "/echo/path?q=1");
  head.headers.add("X-Custom", "value 1");
  auto c = call(loop.get(), pool, head, "line1\nline2 \"quoted\"");
  REQUIRE(c.ended);
  CHECK_THAT(c.body, Catch::Contains(R"("method":"PUT","target":"/echo/path?q=1")"));
  CHECK_THAT(c.body, Catch::Contains(R"(["X-Custom","value 1"])"));
  CHECK_THAT(c.body, Catch::Contains(R"("body":"line1\nline2 \"quoted\"","body_length":20)"));

  auto listing = call(loop.get(), pool, request("GET", "/__mock/requests"));
  CHECK_THAT(listing.body, Catch::StartsWith(R"({"count":1,)"));
  CHECK_THAT(listing.body, Catch::Contains(R"("target":"/echo/path?q=1")"));
  auto reset = call(loop.get(), pool, request("DELETE", "/__mock/requests"));
  CHECK(reset.ended);
  auto again = call(loop.get(), pool, request("GET", "/__mock/requests"));
  CHECK_THAT(again.body, Catch::StartsWith(R"({"count":0,)"));
}

TEST_CASE("mock plays a scripted reply once, chunked as asked", "[mock_upstream]") {
  TempDir dir;
  MockProcess mock(dir);
  uv::UvLoop loop;
  UpstreamPool pool(loop.get(), target(mock.port));
  auto q =
      call(loop.get(), pool,
           request("POST", "/__mock/script?status=201&content_type=text%2Fplain&chunk_bytes=3"),
           "scripted!");
  CHECK(q.body == R"({"queued":1})");
  auto s = call(loop.get(), pool, request("GET", "/anything"));
  CHECK(s.head->status == 201);
  CHECK(s.head->headers.get("Content-Type") == "text/plain");
  CHECK(s.head->headers.get("Transfer-Encoding") == "chunked");
  CHECK(s.body == "scripted!");
  auto after = call(loop.get(), pool, request("GET", "/anything"));
  CHECK(after.head->status == 404);
}

TEST_CASE("mock hangs, resets and closes as documented", "[mock_upstream]") {
  TempDir dir;
  MockProcess mock(dir);
  uv::UvLoop loop;
  auto t = target(mock.port);
  t.response_timeout = std::chrono::milliseconds(150);
  UpstreamPool pool(loop.get(), t);
  auto hang = call(loop.get(), pool, request("GET", "/hang"));
  REQUIRE(hang.failure.has_value());
  CHECK(*hang.failure == UpstreamFailure::response_timeout);
  auto reset = call(loop.get(), pool, request("GET", "/reset?after=10"));
  REQUIRE(reset.failure.has_value());
  CHECK(*reset.failure == UpstreamFailure::reset);
  CHECK(reset.head.has_value());
  auto closed = call(loop.get(), pool, request("GET", "/close-delimited?bytes=5"));
  REQUIRE(closed.ended);
  CHECK(closed.body == "abcde");
}

TEST_CASE("mock cuts a scripted chunked reply short after its last chunk", "[mock_upstream]") {
  TempDir dir;
  MockProcess mock(dir);
  uv::UvLoop loop;
  auto t = target(mock.port);
  t.response_timeout = std::chrono::milliseconds(150);
  UpstreamPool pool(loop.get(), t);
  const std::pair<const char*, UpstreamFailure> cases[] = {
      {"hang", UpstreamFailure::response_timeout},
      {"reset", UpstreamFailure::reset},
      {"close", UpstreamFailure::reset},
  };
  for (const auto& [end, failure] : cases) {
    INFO(end);
    call(loop.get(), pool, request("POST", std::string("/__mock/script?chunk_bytes=4&end=") + end),
         "cut here");
    auto c = call(loop.get(), pool, request("GET", "/anything"));
    REQUIRE(c.head.has_value());
    CHECK(c.body == "cut here");  // every chunk, then no terminating chunk
    REQUIRE(c.failure.has_value());
    CHECK(*c.failure == failure);
  }
}

// ---- HTTPS ----------------------------------------------------------------------------------

namespace {
struct Pki {
  TempDir dir;
  Pki() { REQUIRE(std::system(("tests/tools/make-test-ca.sh " + dir.path.string()).c_str()) == 0); }
  std::string file(const char* name) const { return (dir.path / name).string(); }
};
}  // namespace

TEST_CASE("mock serves HTTPS, verification on succeeds with the test CA", "[mock_upstream][tls]") {
  Pki pki;
  MockProcess mock(pki.dir,
                   {"--tls-cert", pki.file("server.pem"), "--tls-key", pki.file("server.key")});
  uv::UvLoop loop;
  auto t = target(mock.port, "https", "localhost");
  t.tls.ca_file = pki.file("ca.pem");
  UpstreamPool pool(loop.get(), t);
  for (int i = 0; i < 2; ++i) {
    auto c = call(loop.get(), pool, request("POST", "/echo"), "over tls");
    REQUIRE(c.ended);
    CHECK_THAT(c.body, Catch::Contains(R"("body":"over tls")"));
  }
  CHECK(pool.stats().connections_reused == 1);
}

TEST_CASE("mock HTTPS with a wrong host name is refused", "[mock_upstream][tls]") {
  Pki pki;
  MockProcess mock(
      pki.dir, {"--tls-cert", pki.file("wrong-host.pem"), "--tls-key", pki.file("wrong-host.key")});
  uv::UvLoop loop;
  auto t = target(mock.port, "https", "localhost");
  t.tls.ca_file = pki.file("ca.pem");
  UpstreamPool pool(loop.get(), t);
  auto c = call(loop.get(), pool, request("GET", "/echo"));
  REQUIRE(c.failure.has_value());
  CHECK(*c.failure == UpstreamFailure::tls);
  CHECK(c.error.code == "tls.verify_failed");
}

TEST_CASE("mock HTTPS from an unknown CA is refused", "[mock_upstream][tls]") {
  Pki pki;
  MockProcess mock(
      pki.dir, {"--tls-cert", pki.file("untrusted.pem"), "--tls-key", pki.file("untrusted.key")});
  uv::UvLoop loop;
  auto t = target(mock.port, "https", "127.0.0.1");
  t.tls.ca_file = pki.file("ca.pem");
  UpstreamPool pool(loop.get(), t);
  auto c = call(loop.get(), pool, request("GET", "/echo"));
  REQUIRE(c.failure.has_value());
  CHECK(*c.failure == UpstreamFailure::tls);
  CHECK(c.error.code == "tls.verify_failed");
}
