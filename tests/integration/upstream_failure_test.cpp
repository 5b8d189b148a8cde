// Upstream failures that need no traffic off the machine: a connect that never completes and
// a name the resolver refuses. Each gets the documented error (DESIGN §2: 504 for a timeout,
// 502 otherwise, type edgeward_upstream_error) and the gateway keeps serving.
#include <fcntl.h>
#include <poll.h>

#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/harness.hpp"

using namespace edgeward::testing;
using namespace std::chrono_literals;

namespace {

// A loopback listener whose accept queue is full and never drained: the kernel drops further
// SYNs (a listener over its backlog ignores them), so a connect() to it neither succeeds nor
// fails until the client gives up. The sockets that filled the queue stay open with it.
class BlackholeListener {
 public:
  BlackholeListener() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 1) != 0) {
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    // Connect until one connect hangs: that one proves SYNs are now dropped.
    for (int i = 0; i < 16 && !full_; ++i) {
      int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      fillers_.push_back(s);
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) continue;
      if (errno != EINPROGRESS) return;
      pollfd p{s, POLLOUT, 0};
      full_ = ::poll(&p, 1, 300) == 0;
    }
  }
  ~BlackholeListener() {
    for (int s : fillers_) ::close(s);
    if (listener_ >= 0) ::close(listener_);
  }
  BlackholeListener(const BlackholeListener&) = delete;
  BlackholeListener& operator=(const BlackholeListener&) = delete;

  bool full() const { return full_; }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  bool full_ = false;
  std::vector<int> fillers_;
};

// Gateway's extra YAML follows its last upstream entry, so list entries written here extend
// `upstreams:`.
std::string extra_upstream(const std::string& name, const std::string& url,
                           const std::string& more = {}) {
  return "  - name: " + name + "\n    url: " + url + "\n    routes: [\"/" + name + "/\"]\n" + more;
}

}  // namespace

TEST_CASE(
    "gateway answers 504 upstream.connect_timeout when the upstream never accepts the "
    "connection, and keeps serving",
    "[integration][upstream_failure]") {
  BlackholeListener hole;
  REQUIRE(hole.full());
  Gateway g(extra_upstream("hung", "http://127.0.0.1:" + std::to_string(hole.port()),
                           "    connect_timeout: 300ms\n"));
  REQUIRE(g.ready());
  const std::string body =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
  for (int round = 0; round < 2; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    std::string r = http_once(g.port, "POST", "/hung/v1/chat/completions", body,
                              "Content-Type: application/json\r\n");
    auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(status_of(r) == 504);
    CHECK(took >= 250ms);
    CHECK(took < 5s);
    const std::string b = body_of(r);
    CHECK(json_string_field(b, "type") == "edgeward_upstream_error");
    CHECK(json_string_field(b, "code") == "upstream.connect_timeout");
    CHECK(b.find("\"param\":null") != std::string::npos);
    CHECK(r.find("Content-Type: application/json") != std::string::npos);
    // The gateway still serves the healthy upstream, on a fresh and on a kept-alive connection.
    CHECK(status_of(http_once(g.port, "GET", "/sized?bytes=10")) == 200);
  }
  CHECK(g.metric("edgeward_upstream_failures_total{upstream=\"hung\",cause=\"connect_timeout\"}") ==
        2);
  CHECK(g.edgewardd().running());
}

// glibc refuses a name with an empty label before building a DNS query: no socket other than
// nscd's local one is opened (checked with `strace -f -e trace=socket,connect,sendto,sendmmsg
// getent ahosts a..invalid`), so this test sends nothing off the machine.
TEST_CASE(
    "gateway answers 502 upstream.dns when the upstream name cannot be resolved, and "
    "keeps serving",
    "[integration][upstream_failure]") {
  Gateway g(extra_upstream("nxdomain", "http://a..invalid:9"));
  REQUIRE(g.ready());
  for (int round = 0; round < 2; ++round) {
    std::string r = http_once(g.port, "POST", "/nxdomain/v1/chat/completions", "{}",
                              "Content-Type: application/json\r\n");
    REQUIRE(status_of(r) == 502);
    const std::string b = body_of(r);
    CHECK(json_string_field(b, "type") == "edgeward_upstream_error");
    CHECK(json_string_field(b, "code") == "upstream.dns");
    CHECK(b.find("\"param\":null") != std::string::npos);
    CHECK(status_of(http_once(g.port, "GET", "/sized?bytes=10")) == 200);
  }
  CHECK(g.metric("edgeward_upstream_failures_total{upstream=\"nxdomain\",cause=\"dns\"}") == 2);
  CHECK(g.edgewardd().running());
}

TEST_CASE(
    "an inspected stream whose upstream fails after the head ends with the dialect's error "
    "event and a clean end",
    "[integration][upstream_failure]") {
  Gateway g({}, "    response_timeout: 400ms\n");
  REQUIRE(g.ready());
  struct Case {
    std::string end, path, events, code, error_shape;
  };
  const std::string openai =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hello there, AKIAQWERTY\"}}]}"
      "\n\n";
  const std::string anthropic =
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
      "\"delta\":{\"type\":\"text_delta\",\"text\":\"hello there, AKIAQWERTY\"}}\n\n";
  const std::string openai_error =
      "data: {\"error\":{\"message\":\"upstream mock failed: upstream.";
  const Case cases[] = {
      {"hang", "/v1/chat/completions", openai, "upstream.response_timeout", openai_error},
      {"reset", "/v1/chat/completions", openai, "upstream.reset", openai_error},
      {"close", "/v1/chat/completions", openai, "upstream.reset", openai_error},
      {"hang", "/v1/messages", anthropic, "upstream.response_timeout",
       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"edgeward_upstream_error\","},
  };
  for (const Case& k : cases) {
    INFO(k.end << " " << k.path);
    std::string scripted =
        http_once(g.mock_port, "POST",
                  "/__mock/script?content_type=text%2Fevent-stream&chunk_bytes=4096&end=" + k.end,
                  k.events, "");
    REQUIRE(status_of(scripted) == 200);
    ClientSocket c(g.port);
    const std::string body = R"({"model":"m","stream":true,"max_tokens":8,)"
                             R"("messages":[{"role":"user","content":"hi"}]})";
    REQUIRE(c.send("POST " + k.path +
                   " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body));
    std::string r = c.read_until("\r\n0\r\n\r\n", 5s);
    REQUIRE(status_of(r) == 200);
    CHECK_FALSE(c.closed());
    const std::string got = dechunk(r.substr(r.find("\r\n\r\n") + 4));
    // "AKIAQWERTY" could begin a key: held back, then released in an event of its own once the
    // failure made the text final, before the error event.
    CHECK(got.find("hello there, ") != std::string::npos);
    CHECK(got.find("AKIAQWERTY") != std::string::npos);
    CHECK(got.find("AKIAQWERTY") < got.find(k.error_shape));
    CHECK(got.find(k.error_shape) != std::string::npos);
    CHECK(got.find("upstream mock failed: " + k.code) != std::string::npos);
    CHECK(got.ends_with("}}\n\n"));
    // The response ended cleanly: the same connection serves the next request.
    REQUIRE(c.send("GET /sized?bytes=5 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string next = c.read_until("abcde", 5s);
    CHECK(status_of(next) == 200);
  }
  CHECK(g.edgewardd().running());
}
