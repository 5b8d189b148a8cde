#pragma once
// Runs the built `edgeward` binary (EDGEWARD_CLI_PATH, from CMake) with stdout and stderr
// captured in files, bounded in time, always reaped.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace edgeward::store::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A started CLI process. The destructor kills and reaps it if it is still running.
class CliProcess {
 public:
  // `as_uid`: when >= 0 the child drops to this uid/gid before exec (root only).
  CliProcess(const std::vector<std::string>& args, const std::filesystem::path& out_dir,
             int as_uid = -1)
      : out_(out_dir / "stdout"), err_(out_dir / "stderr") {
    std::vector<std::string> argv_s = {EDGEWARD_CLI_PATH};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int o = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int e = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      ::dup2(o, 1);
      ::dup2(e, 2);
      if (as_uid >= 0) {
        if (::setgid(static_cast<gid_t>(as_uid)) != 0 ||
            ::setuid(static_cast<uid_t>(as_uid)) != 0) {
          ::_exit(127);
        }
      }
      ::execve(argv[0], argv.data(), environ);
      ::_exit(127);
    }
  }
  ~CliProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  void signal(int sig) { ::kill(pid_, sig); }

  // Waits up to `timeout` for exit; returns the exit code, or -1 on timeout (the process is
  // then killed by the destructor), or 128+N when killed by signal N.
  int wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }

  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

// Runs the CLI to completion (10 s at most).
inline CliResult run_cli(const std::vector<std::string>& args, const std::filesystem::path& out_dir,
                         int as_uid = -1) {
  CliProcess p(args, out_dir, as_uid);
  const int code = p.wait();
  return {code, p.out(), p.err()};
}

}  // namespace edgeward::store::testing
