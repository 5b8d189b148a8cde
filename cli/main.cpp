// `edgeward`: the admin CLI. Dispatches to the subcommands registered in cli/*_command.cpp.

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/version.hpp"

namespace edgeward::cli {

namespace {
std::vector<Command>& registry() {
  static std::vector<Command> all;
  return all;
}
}  // namespace

CommandRegistration::CommandRegistration(std::string name, std::string summary, CommandFn run) {
  auto& all = registry();
  all.push_back(Command{std::move(name), std::move(summary), std::move(run)});
  std::sort(all.begin(), all.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
}

const std::vector<Command>& commands() { return registry(); }

}  // namespace edgeward::cli

namespace {
void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: edgeward <command> [options]\n\ncommands:\n");
  for (const auto& c : edgeward::cli::commands()) {
    std::fprintf(out, "  %-10s %s\n", c.name.c_str(), c.summary.c_str());
  }
  std::fprintf(out, "\nRun 'edgeward <command> --help' for a command's options.\n");
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(stderr);
    return 2;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(stdout);
    return 0;
  }
  if (args[0] == "--version") {
    std::printf("edgeward %s\n", std::string(edgeward::version()).c_str());
    return 0;
  }
  for (const auto& c : edgeward::cli::commands()) {
    if (c.name != args[0]) continue;
    try {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "edgeward %s: %s\n", c.name.c_str(), e.what());
      return 2;
    }
  }
  std::fprintf(stderr, "edgeward: unknown command '%s'\n", args[0].c_str());
  print_usage(stderr);
  return 2;
}
