#pragma once
// read_args: the one reader of a subcommand's words (`edgeward events list --since 1h …`).
//
// Rules:
//  - A command declares its flags in a table (FlagSpec: name, whether it takes a value, what to
//    do with it) and calls read_args once; the reader never knows what a flag means.
//  - `--flag value` and `--flag=value` are the same. A switch (`--json`) takes no value.
//  - Each flag's `apply` runs when the flag is read, in command-line order, so the first bad
//    word is the one reported. A value is taken as is, even when it starts with '-'.
//  - `--help` / `-h` stops reading: ParsedArgs::help is set, nothing after it is looked at.
//  - A word that starts with '-' (other than "-" alone, conventionally stdin) and is not
//    declared is an unknown flag; any other word is positional.
//  - Errors (codes are stable; messages name the flag and the offending word, for stderr):
//      cli.unknown_flag         "unknown option '--bogus'"
//      cli.missing_value        "--limit needs a value"
//      cli.unexpected_value     "--json takes no value"
//      cli.bad_value            whatever `apply` returned, e.g. "bad --limit 'ten': …"
//      cli.unexpected_argument  "unexpected argument 'x'" (when positionals are not allowed)

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace edgeward::cli {

struct FlagSpec {
  enum class Kind { kSwitch, kValue };
  std::string name;  // with its dashes: "--since"
  Kind kind = Kind::kValue;
  // kValue: called with the value; an error is reported as cli.bad_value with its message.
  // kSwitch: called with an empty string.
  std::function<Status(const std::string& value)> apply;
};

struct ParsedArgs {
  std::vector<std::string> positional;  // the words that are not flags, in order
  bool help = false;                    // --help or -h was read (reading stopped there)
};

// The common flag shapes, so a command's table says what each flag is, not how to store it.
// A switch that sets `target` to true.
FlagSpec switch_flag(std::string name, bool& target);
// A value stored as given: `target` is anything assignable from a std::string (a string, a
// path, an optional of either).
template <class T>
FlagSpec value_flag(std::string name, T& target) {
  return FlagSpec{std::move(name), FlagSpec::Kind::kValue, [&target](const std::string& v) {
                    target = v;
                    return ok_status();
                  }};
}
// A positive duration ("500ms", "2s"); anything else is cli.bad_value
// "bad --name 'v': expected a positive duration (500ms, 2s)".
FlagSpec positive_duration_flag(std::string name, std::chrono::milliseconds& target);

// Reads args[first…] against `flags`.
Result<ParsedArgs> read_args(const std::vector<std::string>& args, std::size_t first,
                             const std::vector<FlagSpec>& flags, bool positional_allowed);

}  // namespace edgeward::cli
