#include "tests/cli/run_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace edgeward::testing {
namespace {

std::string slurp_and_remove(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  ::unlink(path.c_str());
  return ss.str();
}

std::string temp_path(const char* tag) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/ew-cli-" + tag + "-XXXXXX";
  const int fd = ::mkstemp(tmpl.data());
  if (fd >= 0) ::close(fd);
  return tmpl;
}

}  // namespace

std::string edgeward_binary() {
  if (const char* env = std::getenv("EDGEWARD_BIN"); env != nullptr && *env != '\0') return env;
  return EDGEWARD_CLI_PATH;
}

ProcessResult run_edgeward(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout) {
  const std::string out_path = temp_path("out");
  const std::string err_path = temp_path("err");
  const std::string bin = edgeward_binary();
  std::vector<std::string> argv_s{bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  ProcessResult result;
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_path.c_str(), O_WRONLY | O_TRUNC);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_TRUNC);
    if (in < 0 || out < 0 || err < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    result.err = "fork failed";
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = slurp_and_remove(out_path);
  result.err = slurp_and_remove(err_path);
  return result;
}

}  // namespace edgeward::testing
