// HttpServer over real loopback sockets: the server's loop runs on a thread, the test talks to
// it with blocking sockets.
#include "core/net/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/uv_handle.hpp"

using namespace edgeward;
using namespace edgeward::http;
using namespace std::chrono_literals;

namespace {

// /echo answers the request body; /stream answers three chunks; anything else 404.
class TestApp : public HttpApp {
 public:
  std::atomic<int> requests{0};

  class Handler : public RequestHandler {
   public:
    Handler(Responder& r, std::string target) : r_(r), target_(std::move(target)) {}
    void on_request_body(std::string_view bytes) override { body_.append(bytes); }
    void on_request_end() override {
      if (gone_ || r_.head_sent()) return;
      ResponseHead head;
      head.headers.add("Content-Type", "text/plain");
      if (target_ == "/stream") {
        r_.send_head(head, std::nullopt);
        r_.send_body("data: one\n\n");
        r_.send_body("data: two\n\n");
        r_.send_body("data: [DONE]\n\n");
        r_.end();
      } else if (target_.rfind("/echo", 0) == 0) {
        head.headers.add("X-Target", target_);
        r_.respond(head, body_);
      } else {
        head.status = 404;
        r_.respond(head, "nope");
      }
    }
    void on_client_gone() override { gone_ = true; }

   private:
    Responder& r_;
    std::string target_;
    std::string body_;
    bool gone_ = false;
  };

  std::unique_ptr<RequestHandler> on_request(RequestHead&& head, const BodyFraming&,
                                             Responder& responder) override {
    ++requests;
    return std::make_unique<Handler>(responder, head.target);
  }
};

class ServerFixture {
 public:
  explicit ServerFixture(ServerLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(loop_.get(), app, limits);
    auto st = server_->listen("127.0.0.1:0", false);
    REQUIRE(st);
    port = server_->local_port();
    REQUIRE(uv_async_init(loop_.get(), &stop_, [](uv_async_t* a) {
              auto* self = static_cast<ServerFixture*>(a->data);
              self->server_.reset();
              uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
            }) == 0);
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(loop_.get(), UV_RUN_DEFAULT); });
  }
  ~ServerFixture() {
    uv_async_send(&stop_);
    thread_.join();
  }

  TestApp app;
  std::uint16_t port = 0;

 private:
  uv::UvLoop loop_;
  std::unique_ptr<HttpServer> server_;
  uv_async_t stop_{};
  std::thread thread_;
};

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads until the peer closes, `until` appears, or the timeout passes.
std::string read_until(int fd, std::string_view until, std::chrono::milliseconds timeout,
                       bool* closed = nullptr) {
  std::string out;
  auto end = std::chrono::steady_clock::now() + timeout;
  if (closed) *closed = false;
  while (std::chrono::steady_clock::now() < end) {
    if (!until.empty() && out.find(until) != std::string::npos) break;
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string exchange_and_close(std::uint16_t port, std::string_view request,
                               std::chrono::milliseconds timeout = 3s, bool* closed = nullptr) {
  int fd = connect_to(port);
  send_all(fd, request);
  std::string out = read_until(fd, {}, timeout, closed);
  ::close(fd);
  return out;
}

int count_of(std::string_view hay, std::string_view needle) {
  int n = 0;
  for (auto p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("server answers keep-alive requests on one connection", "[http_server]") {
  ServerFixture f;
  int fd = connect_to(f.port);
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  std::string first = read_until(fd, "hello", 2s);
  CHECK(first.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(first.find("Content-Length: 5\r\n") != std::string::npos);
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nworld");
  std::string second = read_until(fd, "world", 2s);
  CHECK(second.find("world") != std::string::npos);
  ::close(fd);
  CHECK(f.app.requests == 2);
}

TEST_CASE("server answers pipelined requests in order", "[http_server]") {
  ServerFixture f;
  int fd = connect_to(f.port);
  send_all(fd,
           "POST /echo1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\naaa"
           "POST /echo2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nbbb"
           "POST /echo3 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nccc");
  std::string out = read_until(fd, {}, 3s);
  ::close(fd);
  auto a = out.find("aaa"), b = out.find("bbb"), c = out.find("ccc");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(c != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(count_of(out, "HTTP/1.1 200 OK") == 3);
  CHECK(out.find("Connection: close") != std::string::npos);
}

TEST_CASE("server de-chunks a chunked request body", "[http_server]") {
  ServerFixture f;
  std::string out = exchange_and_close(
      f.port,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
  CHECK(out.find("Content-Length: 7\r\n") != std::string::npos);
  CHECK(out.find("\r\n\r\nabcdefg") != std::string::npos);
}

TEST_CASE("server streams a chunked response", "[http_server]") {
  ServerFixture f;
  std::string out =
      exchange_and_close(f.port, "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(out.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(out.find("b\r\ndata: one\n\n\r\n") != std::string::npos);
  CHECK(out.find("0\r\n\r\n") != std::string::npos);
}

TEST_CASE("server sends 100 Continue before reading an expected body", "[http_server]") {
  ServerFixture f;
  int fd = connect_to(f.port);
  send_all(fd,
           "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  std::string interim = read_until(fd, "\r\n\r\n", 2s);
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  send_all(fd, "body");
  std::string final_response = read_until(fd, "body", 2s);
  CHECK(final_response.rfind("HTTP/1.1 200 OK", 0) == 0);
  ::close(fd);
}

TEST_CASE("server refuses each request-smuggling shape with 400 and closes", "[http_server]") {
  ServerFixture f;
  const char* shapes[] = {
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST /echo HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\nHost: x\r\nContent-Length: 0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nX A: b\r\nContent-Length: 0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
  };
  for (const char* shape : shapes) {
    INFO(shape);
    bool closed = false;
    std::string out = exchange_and_close(f.port, shape, 3s, &closed);
    CHECK(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(out.find("Connection: close") != std::string::npos);
    CHECK(out.find("\"type\":\"edgeward_error\"") != std::string::npos);
    CHECK(closed);
  }
  // Except for the bad chunk (refused after the head), nothing reached the application.
  CHECK(f.app.requests <= 1);
}

TEST_CASE("server answers 431 to a head over max_header_bytes", "[http_server]") {
  ServerLimits limits;
  limits.max_header_bytes = 1024;
  ServerFixture f(limits);
  std::string out = exchange_and_close(
      f.port, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 431 ", 0) == 0);
  CHECK(f.app.requests == 0);
}

TEST_CASE("server answers 413 POLICY.BODY_TOO_LARGE to an oversize body", "[http_server]") {
  ServerLimits limits;
  limits.max_request_body = 10;
  ServerFixture f(limits);
  std::string sized = exchange_and_close(
      f.port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
  CHECK(sized.rfind("HTTP/1.1 413 ", 0) == 0);
  CHECK(sized.find("Edgeward-Reason: POLICY.BODY_TOO_LARGE") != std::string::npos);
  CHECK(sized.find("\"code\":\"POLICY.BODY_TOO_LARGE\"") != std::string::npos);
  CHECK(f.app.requests == 0);
  std::string chunked =
      exchange_and_close(f.port,
                         "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n");
  CHECK(chunked.rfind("HTTP/1.1 413 ", 0) == 0);
}

TEST_CASE("server answers 408 when the head does not arrive within header_timeout",
          "[http_server]") {
  ServerLimits limits;
  limits.header_timeout = 300ms;
  ServerFixture f(limits);
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::string out = exchange_and_close(f.port, "GET /echo HTTP/1.1\r\nHost: x\r\n", 3s, &closed);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(out.rfind("HTTP/1.1 408 ", 0) == 0);
  CHECK(closed);
  CHECK(took >= 300ms);
  CHECK(took < 2s);
}

TEST_CASE("server closes a keep-alive connection silently after idle_timeout", "[http_server]") {
  ServerLimits limits;
  limits.idle_timeout = 300ms;
  ServerFixture f(limits);
  int fd = connect_to(f.port);
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
  std::string first = read_until(fd, "\r\n\r\nok", 2s);
  REQUIRE(first.find("ok") != std::string::npos);
  bool closed = false;
  std::string rest = read_until(fd, {}, 3s, &closed);
  CHECK(closed);
  CHECK(rest.empty());
  ::close(fd);
}

TEST_CASE("server answers 503 beyond max_connections", "[http_server]") {
  ServerLimits limits;
  limits.max_connections = 2;
  ServerFixture f(limits);
  int a = connect_to(f.port);
  int b = connect_to(f.port);
  std::this_thread::sleep_for(100ms);
  bool closed = false;
  std::string out =
      exchange_and_close(f.port, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 2s, &closed);
  CHECK(out.rfind("HTTP/1.1 503 ", 0) == 0);
  CHECK(closed);
  ::close(a);
  ::close(b);
}

TEST_CASE("server sends no body for HEAD", "[http_server]") {
  ServerFixture f;
  std::string out =
      exchange_and_close(f.port, "HEAD /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(out.size() == out.find("\r\n\r\n") + 4);
}

TEST_CASE("server closes an HTTP/1.0 connection after the response", "[http_server]") {
  ServerFixture f;
  bool closed = false;
  std::string out = exchange_and_close(f.port, "GET /stream HTTP/1.0\r\n\r\n", 2s, &closed);
  CHECK(out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(out.find("Transfer-Encoding") == std::string::npos);
  CHECK(out.find("data: [DONE]") != std::string::npos);
  CHECK(closed);
}
