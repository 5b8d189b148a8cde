#pragma once
// `edgeward rules keygen|sign|verify` (DESIGN §6, §3.3). Implemented in cli/rules_signing.cpp;
// called by the `rules` dispatcher in cli/rules_command.cpp. `args` are the words after the
// sub-subcommand name; each returns the process exit code (0 ok, 2 error, 1 verification refused).

#include <string>
#include <vector>

namespace edgeward::cli {

int run_rules_keygen(const std::vector<std::string>& args);
int run_rules_sign(const std::vector<std::string>& args);
int run_rules_verify(const std::vector<std::string>& args);

}  // namespace edgeward::cli
