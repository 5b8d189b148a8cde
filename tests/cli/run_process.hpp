#pragma once
// Runs the built `edgeward` binary as a child process for CLI tests.
//
// Rules:
//  - The child gets its own stdout/stderr captured to temporary files; stdin is /dev/null.
//  - A child still running after `timeout` is killed (SIGKILL) and reaped: a test never leaves a
//    process behind.

#include <chrono>
#include <string>
#include <vector>

namespace edgeward::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or on timeout
  bool timed_out = false;
  std::string out;
  std::string err;
};

// The path of the `edgeward` binary under test (compiled in by tests/cli/CMakeLists.txt).
std::string edgeward_binary();

// Runs `edgeward args...` and waits for it (at most `timeout`).
ProcessResult run_edgeward(const std::vector<std::string>& args,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace edgeward::testing
