#pragma once
// Blocking loopback client helpers for tests: connect, send, read with a deadline.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace edgeward::testing {

// A connected socket, closed on destruction.
class ClientSocket {
 public:
  explicit ClientSocket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~ClientSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  ClientSocket(const ClientSocket&) = delete;
  ClientSocket& operator=(const ClientSocket&) = delete;
  ClientSocket(ClientSocket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until `until` appears in what was read, the peer closes, or `timeout` passes.
  std::string read_until(std::string_view until, std::chrono::milliseconds timeout) {
    std::string out;
    auto end = std::chrono::steady_clock::now() + timeout;
    closed_ = false;
    while (std::chrono::steady_clock::now() < end) {
      if (!until.empty() && out.find(until) != std::string::npos) break;
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(left.count() > 0 ? left.count() : 1)) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  // Reads one whole HTTP/1.1 response with Content-Length or chunked framing (no trailers).
  std::string read_response(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    std::string out = pending_;
    pending_.clear();
    auto more = [&]() {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      std::string got = read_until("", std::chrono::milliseconds(1));
      if (got.empty()) {
        if (closed_) return false;
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(left.count()));
        return true;
      }
      out += got;
      return true;
    };
    std::size_t head_end;
    while ((head_end = out.find("\r\n\r\n")) == std::string::npos) {
      if (!more()) return out;
    }
    head_end += 4;
    std::string head = out.substr(0, head_end);
    std::string lower;
    for (char c : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t total = 0;
    if (auto p = lower.find("\r\ncontent-length:"); p != std::string::npos) {
      total = head_end + std::stoul(head.substr(p + 17));
      while (out.size() < total) {
        if (!more()) return out;
      }
    } else if (lower.find("transfer-encoding: chunked") != std::string::npos) {
      while (true) {
        auto p = out.find("\r\n0\r\n\r\n", head_end - 2);
        if (p != std::string::npos) {
          total = p + 7;
          break;
        }
        if (!more()) return out;
      }
    } else {
      total = head_end;
    }
    pending_ = out.substr(total);
    return out.substr(0, total);
  }

  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

// The body of a response read by read_response (de-chunked when chunked).
inline std::string body_of(const std::string& response) {
  auto head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) return {};
  std::string body = response.substr(head_end + 4);
  std::string head = response.substr(0, head_end);
  bool chunked = false;
  for (std::size_t i = 0; i + 26 <= head.size(); ++i) {
    std::string piece = head.substr(i, 26);
    for (char& c : piece) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (piece == "transfer-encoding: chunked") chunked = true;
  }
  if (!chunked) return body;
  std::string out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::size_t n = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) break;
    out += body.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  return out;
}

inline int status_of(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

}  // namespace edgeward::testing
