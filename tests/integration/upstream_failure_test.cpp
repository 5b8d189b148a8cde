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
