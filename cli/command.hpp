#pragma once
// The `edgeward` CLI's subcommand registry.
//
// Rules:
//  - Each subcommand lives in its own file (cli/<name>_command.cpp) and registers itself with a
//    file-scope CommandRegistration; main() only dispatches.
//  - A command returns the process exit code: 0 success, 1 "found something" where DESIGN §6 says
//    so, 2 on any error (message on stderr). Exceptions are caught in main() and become exit 2.
//  - `args` are the words after the subcommand name.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeward::cli {

using CommandFn = std::function<int(const std::vector<std::string>& args)>;

struct Command {
  std::string name;     // "scan"
  std::string summary;  // one line for `edgeward --help`
  CommandFn run;
};

// Registers a command at static-initialisation time.
struct CommandRegistration {
  CommandRegistration(std::string name, std::string summary, CommandFn run);
};

// Every registered command, sorted by name.
const std::vector<Command>& commands();

}  // namespace edgeward::cli
