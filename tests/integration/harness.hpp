#pragma once
// Integration-test harness: real processes on loopback, always stopped.
//
// Rules:
//  - A Process is killed (SIGKILL) and reaped by its destructor if it is still running, so a
//    failed REQUIRE never leaves a process behind.
//  - Every wait is bounded.

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/daemon/socket_client.hpp"

namespace edgeward::testing {

// A temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/edgeward-it-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

// The value of header `name` (case-insensitive) in the head of a raw HTTP response; "" when
// absent.
inline std::string header_value(const std::string& response, const std::string& name) {
  auto lowered = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  const std::string head = lowered(response.substr(0, response.find("\r\n\r\n")));
  const std::string key = lowered("\r\n" + name + ":");
  auto p = head.find(key);
  if (p == std::string::npos) return {};
  p += key.size();
  while (p < response.size() && response[p] == ' ') ++p;
  return response.substr(p, response.find("\r\n", p) - p);
}

// The value of the first `"name":"…"` in a compact JSON text (no escapes in the value).
inline std::string json_string_field(const std::string& body, const std::string& name) {
  auto p = body.find("\"" + name + "\":\"");
  if (p == std::string::npos) return {};
  p += name.size() + 4;
  return body.substr(p, body.find('"', p) - p);
}

// The payload of a chunked body as framed on the wire (no chunk extensions, no trailers).
inline std::string dechunk(const std::string& framed) {
  std::string out;
  std::size_t pos = 0;
  for (;;) {
    auto eol = framed.find("\r\n", pos);
    if (eol == std::string::npos) return out;
    std::size_t n = std::stoul(framed.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) return out;
    out += framed.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process with stdout and stderr sent to `log_path`.
class Process {
 public:
  // `env`: extra "NAME=value" entries for the child's environment.
  Process(const std::vector<std::string>& argv, const std::string& log_path,
          const std::vector<std::string>& env = {}) {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0 || exited_) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = st;
      return false;
    }
    return true;
  }
  void signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }
  // Waits for the exit; returns the exit code, or -1 after `timeout` (the process is then
  // killed) or when it died from a signal.
  int wait(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        exited_ = true;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  int terminate(std::chrono::milliseconds timeout) {
    signal(SIGTERM);
    return wait(timeout);
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

inline std::uint16_t free_port() {
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

// One request on a fresh connection ("Connection: close" is added); returns the response.
inline std::string http_once(std::uint16_t port, const std::string& method,
                             const std::string& target, const std::string& body = {},
                             const std::string& extra_headers = {},
                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  ClientSocket c(port);
  if (!c.ok()) return {};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers +
                    "Content-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
  c.send(req);
  return c.read_response(timeout);
}

// Waits until GET `target` on `port` answers 200 (false at once when `process` exited).
inline bool wait_ready(std::uint16_t port, const std::string& target, Process& process,
                       std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end && process.running()) {
    if (status_of(http_once(port, "GET", target, {}, {}, std::chrono::milliseconds(500))) == 200) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Raises the soft open-file limit to at least `want` (up to the hard limit).
inline rlim_t raise_fd_limit(rlim_t want) {
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < want) {
    r.rlim_cur = std::min(want, r.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &r);
    ::getrlimit(RLIMIT_NOFILE, &r);
  }
  return r.rlim_cur;
}

inline bool sanitized_run() {
  const char* v = std::getenv("EDGEWARD_SANITIZED_RUN");
  return v != nullptr && std::string(v) == "1";
}

// The mock upstream (tests/tools) and edgewardd in front of it, on free loopback ports.
class Gateway {
 public:
  // `extra_yaml` is appended to the generated config (top-level keys such as `limits:`).
  // `upstream_yaml` is appended inside the upstream entry ("    response_timeout: 1s\n").
  explicit Gateway(const std::string& extra_yaml = {}, const std::string& upstream_yaml = {},
                   unsigned workers = 2) {
    // Free ports are found by binding port 0 and closing; another test running in parallel
    // can take one in between, so a process that exits at start is retried on new ports.
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
      mock_port = free_port();
      mock_ = std::make_unique<Process>(
          std::vector<std::string>{EDGEWARD_MOCK_PATH, "--listen",
                                   "127.0.0.1:" + std::to_string(mock_port)},
          dir.file("mock.log"));
      ready_ = wait_ready(mock_port, "/__mock/health", *mock_, std::chrono::seconds(20));
    }
    if (!ready_) return;
    ready_ = false;
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
      port = free_port();
      admin_port = free_port();
      down_port = free_port();
      config_path = dir.file("edgeward.yaml");
      std::ofstream(config_path) << "listen: 127.0.0.1:" << port << "\n"
                                 << "admin_listen: 127.0.0.1:" << admin_port << "\n"
                                 << "workers: " << workers << "\n"
                                 << "state_dir: " << dir.path << "\n"
                                 << "upstreams:\n"
                                 << "  - name: mock\n"
                                 << "    url: http://127.0.0.1:" << mock_port << "\n"
                                 << "    routes: [\"/\"]\n"
                                 << upstream_yaml << "  - name: down\n"
                                 << "    url: http://127.0.0.1:" << down_port << "\n"
                                 << "    routes: [\"/down/\"]\n"
                                 << extra_yaml;
      start_edgewardd();
    }
  }

  void start_edgewardd() {
    edgewardd_ =
        std::make_unique<Process>(std::vector<std::string>{EDGEWARDD_PATH, "--config", config_path},
                                  dir.file("edgewardd.log"));
    ready_ = wait_ready(admin_port, "/healthz", *edgewardd_, std::chrono::seconds(20)) &&
             wait_ready(port, "/sized?bytes=1", *edgewardd_, std::chrono::seconds(20));
  }

  bool ready() const { return ready_; }
  Process& edgewardd() { return *edgewardd_; }
  std::string log() const { return slurp(dir.file("edgewardd.log")); }

  // How many requests reached the mock (its control endpoint).
  int mock_count() {
    std::string r = http_once(mock_port, "GET", "/__mock/requests");
    std::string body = body_of(r);
    auto p = body.find("\"count\":");
    return p == std::string::npos ? -1 : std::atoi(body.c_str() + p + 8);
  }
  void mock_reset() { http_once(mock_port, "DELETE", "/__mock/requests"); }

  // A metric's value from /metrics (first line starting with `series`), or -1.
  double metric(const std::string& series) {
    std::string text = body_of(http_once(admin_port, "GET", "/metrics"));
    auto p = text.find("\n" + series + " ");
    if (p == std::string::npos) return -1;
    return std::atof(text.c_str() + p + series.size() + 2);
  }

  TempDir dir;
  std::uint16_t port = 0, admin_port = 0, mock_port = 0, down_port = 0;
  std::string config_path;

 private:
  std::unique_ptr<Process> mock_;
  std::unique_ptr<Process> edgewardd_;
  bool ready_ = false;
};

}  // namespace edgeward::testing
