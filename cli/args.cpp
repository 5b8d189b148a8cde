#include "cli/args.hpp"

#include <algorithm>

#include "core/units.hpp"

namespace edgeward::cli {

FlagSpec switch_flag(std::string name, bool& target) {
  return FlagSpec{std::move(name), FlagSpec::Kind::kSwitch, [&target](const std::string&) {
                    target = true;
                    return ok_status();
                  }};
}

FlagSpec positive_duration_flag(std::string name, std::chrono::milliseconds& target) {
  std::string flag = name;
  return FlagSpec{std::move(name), FlagSpec::Kind::kValue,
                  [&target, flag = std::move(flag)](const std::string& v) -> Status {
                    auto d = units::parse_duration(v);
                    if (!d || d->count() <= 0) {
                      return make_error(
                          "cli.bad_value",
                          "bad " + flag + " '" + v + "': expected a positive duration (500ms, 2s)");
                    }
                    target = *d;
                    return ok_status();
                  }};
}

Result<ParsedArgs> read_args(const std::vector<std::string>& args, std::size_t first,
                             const std::vector<FlagSpec>& flags, bool positional_allowed) {
  ParsedArgs out;
  for (std::size_t i = first; i < args.size(); ++i) {
    std::string word = args[i];
    if (word == "--help" || word == "-h") {
      out.help = true;
      return out;
    }
    if (word.size() < 2 || word[0] != '-') {
      if (!positional_allowed) {
        return make_error("cli.unexpected_argument", "unexpected argument '" + word + "'");
      }
      out.positional.push_back(std::move(word));
      continue;
    }
    std::string inline_value;
    bool has_inline = false;
    if (word.rfind("--", 0) == 0) {
      if (const auto eq = word.find('='); eq != std::string::npos) {
        inline_value = word.substr(eq + 1);
        word.resize(eq);
        has_inline = true;
      }
    }
    const auto spec =
        std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.name == word; });
    if (spec == flags.end()) {
      return make_error("cli.unknown_flag", "unknown option '" + word + "'");
    }
    std::string value;
    if (spec->kind == FlagSpec::Kind::kSwitch) {
      if (has_inline) return make_error("cli.unexpected_value", word + " takes no value");
    } else if (has_inline) {
      value = std::move(inline_value);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return make_error("cli.missing_value", word + " needs a value");
    }
    if (auto st = spec->apply(value); !st) return make_error("cli.bad_value", st.error().message);
  }
  return out;
}

}  // namespace edgeward::cli
