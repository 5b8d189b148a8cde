#pragma once
// A scripted upstream inside the test process that records the exact bytes it receives and
// sends the exact bytes it is told to (the oracle for byte-exact forwarding tests), and
// RawGateway: the real edgewardd in front of one.
//
// Rules:
//  - It listens on 127.0.0.1 (port 0, read back with port()); one thread serves every
//    connection with poll(); the destructor stops the thread and closes every socket.
//  - A request is complete when its head and its body (Content-Length, or chunked up to the
//    last chunk and its trailer section) have arrived; its raw bytes are then recorded and the
//    next queued reply is written, piece by piece, `gap` apart. With no reply queued the
//    upstream answers a small 200.
//  - It does not validate HTTP beyond the framing it needs: the test compares the raw bytes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.hpp"

namespace edgeward::testing {

// The raw request as it arrived, split at the end of the head.
struct RawRequest {
  std::string head;  // request line and header lines, up to and including the blank line
  std::string body;  // the body bytes as framed on the wire (chunk framing included)
};

struct RawReply {
  std::vector<std::string> pieces;  // written in order, each with its own send()
  std::chrono::milliseconds gap{0};
};

// Where the request whose bytes start `data` ends: the byte count of head + framed body, or
// nullopt while incomplete.
inline std::optional<std::size_t> raw_request_length(const std::string& data) {
  auto head_end = data.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  head_end += 4;
  std::string lower(data.substr(0, head_end));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
    std::size_t n = std::stoul(lower.substr(p + 17));
    if (data.size() < head_end + n) return std::nullopt;
    return head_end + n;
  }
  if (lower.find("\r\ntransfer-encoding: chunked") == std::string::npos) return head_end;
  std::size_t pos = head_end;
  for (;;) {
    auto eol = data.find("\r\n", pos);
    if (eol == std::string::npos) return std::nullopt;
    std::size_t n = std::stoul(data.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (n == 0) break;
    if (data.size() < pos + n + 2) return std::nullopt;
    pos += n + 2;
  }
  for (;;) {  // trailer section: lines up to an empty one
    auto eol = data.find("\r\n", pos);
    if (eol == std::string::npos) return std::nullopt;
    bool empty = eol == pos;
    pos = eol + 2;
    if (empty) return pos;
  }
}

class RawUpstream {
 public:
  // `receive_buffer`: SO_RCVBUF of the accepted sockets (0: the kernel's default), small to
  // make the gateway's writes block soon while reading is paused.
  explicit RawUpstream(int receive_buffer = 0) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (receive_buffer > 0) {
      ::setsockopt(listener_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 64) != 0) {
      ::close(listener_);
      listener_ = -1;
      return;
    }
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RawUpstream() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& [fd, buf] : conns_) ::close(fd);
    if (listener_ >= 0) ::close(listener_);
  }
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  bool ok() const { return listener_ >= 0; }
  std::uint16_t port() const { return port_; }

  void queue(RawReply reply) {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(reply));
  }
  // While paused, connections are accepted but not read: a stalled upstream.
  void pause_reading(bool paused) { paused_ = paused; }

  std::vector<RawRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Waits (bounded) until `n` requests have been recorded.
  bool wait_requests(std::size_t n, std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (requests().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      if (!paused_) {
        for (auto& [fd, buf] : conns_) fds.push_back({fd, POLLIN, 0});
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int c = ::accept(listener_, nullptr, nullptr);
        if (c >= 0) conns_[c];
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int fd = fds[i].fd;
        char tmp[65536];
        ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) {
          ::close(fd);
          conns_.erase(fd);
          continue;
        }
        std::string& buf = conns_[fd];
        buf.append(tmp, static_cast<std::size_t>(n));
        while (auto len = raw_request_length(buf)) {
          const std::size_t head_end = buf.find("\r\n\r\n") + 4;
          RawReply reply;
          {
            std::lock_guard lock(mu_);
            requests_.push_back({buf.substr(0, head_end), buf.substr(head_end, *len - head_end)});
            if (!replies_.empty()) {
              reply = std::move(replies_.front());
              replies_.pop_front();
            } else {
              reply.pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"};
            }
          }
          buf.erase(0, *len);
          for (std::size_t k = 0; k < reply.pieces.size(); ++k) {
            if (k > 0 && reply.gap.count() > 0) std::this_thread::sleep_for(reply.gap);
            const std::string& piece = reply.pieces[k];
            std::size_t off = 0;
            while (off < piece.size()) {
              ssize_t w = ::send(fd, piece.data() + off, piece.size() - off, MSG_NOSIGNAL);
              if (w <= 0) break;
              off += static_cast<std::size_t>(w);
            }
          }
        }
      }
    }
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::thread thread_;
  std::map<int, std::string> conns_;  // the server thread's only
  std::mutex mu_;
  std::deque<RawReply> replies_;
  std::vector<RawRequest> requests_;
};

// edgewardd in front of a RawUpstream routed at "/".
class RawGateway {
 public:
  // `extra_yaml`: top-level config keys. `wait_rules`: also wait for /readyz (rules loaded).
  RawGateway(const std::string& extra_yaml, bool wait_rules, int upstream_receive_buffer = 0)
      : upstream(upstream_receive_buffer) {
    if (!upstream.ok()) return;
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
      port = free_port();
      admin_port = free_port();
      const std::string config = dir.file("edgeward.yaml");
      std::ofstream(config) << "listen: 127.0.0.1:" << port << "\n"
                            << "admin_listen: 127.0.0.1:" << admin_port << "\n"
                            << "workers: 2\n"
                            << "state_dir: " << dir.path << "\n"
                            << "upstreams:\n"
                            << "  - name: raw\n"
                            << "    url: http://127.0.0.1:" << upstream.port() << "\n"
                            << "    routes: [\"/\"]\n"
                            << extra_yaml;
      edgewardd_ = std::make_unique<Process>(
          std::vector<std::string>{EDGEWARDD_PATH, "--config", config}, dir.file("edgewardd.log"));
      ready_ = wait_ready(admin_port, "/healthz", *edgewardd_, std::chrono::seconds(30)) &&
               (!wait_rules ||
                wait_ready(admin_port, "/readyz", *edgewardd_, std::chrono::seconds(120))) &&
               ClientSocket(port).ok();
    }
  }
  bool ready() const { return ready_; }
  std::string log() const { return slurp(dir.file("edgewardd.log")); }
  // A metric's value from /metrics (the first line starting with `series`), or -1.
  double metric(const std::string& series) {
    std::string text = body_of(http_once(admin_port, "GET", "/metrics"));
    auto p = text.find("\n" + series + " ");
    if (p == std::string::npos) return -1;
    return std::atof(text.c_str() + p + series.size() + 2);
  }
  Process& edgewardd() { return *edgewardd_; }
  std::string rules_state() {
    std::string body = body_of(http_once(admin_port, "GET", "/status"));
    auto p = body.find("\"rules\":");
    return p == std::string::npos ? body : body.substr(p, 120);
  }

  RawUpstream upstream;
  TempDir dir;
  std::uint16_t port = 0, admin_port = 0;

 private:
  std::unique_ptr<Process> edgewardd_;
  bool ready_ = false;
};

// Config lines that make the rules unavailable (a rules file that is not a signed blob) with
// fail_mode open: requests are forwarded uninspected.
inline std::string rules_unavailable_yaml(const TempDir& dir) {
  std::ofstream(dir.file("not-a-blob")) << "not a signed blob\n";
  return "fail_mode: open\nrules: { file: " + dir.file("not-a-blob") + " }\n";
}

}  // namespace edgeward::testing
