#include "cli/args.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

using namespace edgeward;
using namespace edgeward::cli;

namespace {

// A command with one switch and two value flags, recording what the reader hands it.
struct Recorder {
  bool json = false;
  std::vector<std::string> limits;
  std::string state_dir;
  std::vector<FlagSpec> flags() {
    return {
        {"--json", FlagSpec::Kind::kSwitch,
         [this](const std::string& v) {
           CHECK(v.empty());
           json = true;
           return ok_status();
         }},
        {"--limit", FlagSpec::Kind::kValue,
         [this](const std::string& v) -> Status {
           if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
             return make_error("test.bad_limit", "bad --limit '" + v + "'");
           }
           limits.push_back(v);
           return ok_status();
         }},
        {"--state-dir", FlagSpec::Kind::kValue,
         [this](const std::string& v) {
           state_dir = v;
           return ok_status();
         }},
    };
  }
};

Result<ParsedArgs> read(Recorder& r, std::vector<std::string> args, bool positional = true) {
  return read_args(args, 0, r.flags(), positional);
}

}  // namespace

TEST_CASE("a value flag reads '--flag value' and '--flag=value' alike", "[cli][args]") {
  Recorder r;
  auto p = read(r, {"--limit", "5", "--limit=7", "--state-dir=/a=b"});
  REQUIRE(p);
  CHECK(r.limits == std::vector<std::string>{"5", "7"});
  CHECK(r.state_dir == "/a=b");  // only the first '=' separates
  CHECK(p->positional.empty());
  CHECK_FALSE(p->help);
}

TEST_CASE("a switch takes no value, and says so when given one", "[cli][args]") {
  Recorder r;
  REQUIRE(read(r, {"--json"}));
  CHECK(r.json);
  Recorder r2;
  auto p = read(r2, {"--json=yes"});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == "cli.unexpected_value");
  CHECK(p.error().message == "--json takes no value");
}

TEST_CASE("an undeclared flag is refused by name", "[cli][args]") {
  Recorder r;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--bogus"}, {"--bogus=1"}, {"-x"}}) {
    auto p = read(r, args);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == "cli.unknown_flag");
  }
  CHECK(read(r, {"--bogus=1"}).error().message == "unknown option '--bogus'");
  CHECK(read(r, {"-x"}).error().message == "unknown option '-x'");
}

TEST_CASE("a value flag at the end without its value is refused", "[cli][args]") {
  Recorder r;
  auto p = read(r, {"--json", "--limit"});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == "cli.missing_value");
  CHECK(p.error().message == "--limit needs a value");
}

TEST_CASE("a value the command refuses is reported with the command's message", "[cli][args]") {
  Recorder r;
  auto p = read(r, {"--limit", "ten"});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == "cli.bad_value");
  CHECK(p.error().message == "bad --limit 'ten'");
}

TEST_CASE("the first bad word is the one reported, in command-line order", "[cli][args]") {
  Recorder r;
  auto p = read(r, {"--limit", "1", "--limit", "x", "--bogus"});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == "cli.bad_value");
  CHECK(r.limits == std::vector<std::string>{"1"});
}

TEST_CASE("a value is taken as is, even when it looks like a flag", "[cli][args]") {
  Recorder r;
  REQUIRE(read(r, {"--state-dir", "--json"}));
  CHECK(r.state_dir == "--json");
  CHECK_FALSE(r.json);
}

TEST_CASE("positional words are kept in order, '-' among them", "[cli][args]") {
  Recorder r;
  auto p = read(r, {"evt_1", "--json", "-", "req_2"});
  REQUIRE(p);
  CHECK(p->positional == std::vector<std::string>{"evt_1", "-", "req_2"});
  CHECK(r.json);
}

TEST_CASE("a command without positional arguments refuses one by name", "[cli][args]") {
  Recorder r;
  auto p = read(r, {"--json", "extra"}, /*positional=*/false);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == "cli.unexpected_argument");
  CHECK(p.error().message == "unexpected argument 'extra'");
}

TEST_CASE("--help and -h stop reading, so later mistakes do not hide the help", "[cli][args]") {
  for (const char* help : {"--help", "-h"}) {
    Recorder r;
    auto p = read(r, {"--json", help, "--bogus", "--limit"});
    REQUIRE(p);
    CHECK(p->help);
    CHECK(r.json);
  }
}

TEST_CASE("reading starts at the given word (after a subcommand)", "[cli][args]") {
  Recorder r;
  const std::vector<std::string> args = {"list", "--limit", "3"};
  auto p = read_args(args, 1, r.flags(), false);
  REQUIRE(p);
  CHECK(r.limits == std::vector<std::string>{"3"});
}

TEST_CASE("flag builders store a switch, a value as given and a positive duration", "[cli][args]") {
  bool json = false;
  std::optional<std::string> admin;
  std::chrono::milliseconds timeout{2000};
  const std::vector<FlagSpec> flags = {
      switch_flag("--json", json),
      value_flag("--admin", admin),
      positive_duration_flag("--timeout", timeout),
  };
  auto parsed =
      read_args({"--json", "--admin=127.0.0.1:9088", "--timeout", "500ms"}, 0, flags, false);
  REQUIRE(parsed);
  CHECK(json);
  REQUIRE(admin);
  CHECK(*admin == "127.0.0.1:9088");
  CHECK(timeout == std::chrono::milliseconds(500));
}

TEST_CASE("a duration flag refuses zero, negatives and words, naming the flag", "[cli][args]") {
  std::chrono::milliseconds interval{500};
  const std::vector<FlagSpec> flags = {positive_duration_flag("--interval", interval)};
  for (const char* bad : {"0s", "soon", "-1s"}) {
    auto parsed = read_args({"--interval", bad}, 0, flags, false);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == "cli.bad_value");
    CHECK(parsed.error().message ==
          std::string("bad --interval '") + bad + "': expected a positive duration (500ms, 2s)");
  }
  CHECK(interval == std::chrono::milliseconds(500));
}
