#include "core/log.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace edgeward;  // `log::` then names edgeward::log (a global alias would clash with
                           // ::log)
using edgeward::timefmt::TimePoint;

namespace {

enum class Mode { enforce, monitor };
std::string_view to_string(Mode m) {
  return m == Mode::enforce ? "enforce" : "monitor";
}
enum class Plain { a = 7 };

// The design's promise, pinned at compile time: bodies cannot be logged by accident.
static_assert(!log::is_loggable_v<std::string>);
static_assert(!log::is_loggable_v<const std::string&>);
static_assert(!log::is_loggable_v<std::string_view>);
static_assert(!log::is_loggable_v<const char*>);
static_assert(!log::is_loggable_v<char*>);
static_assert(!log::is_loggable_v<std::vector<char>>);
static_assert(!log::is_loggable_v<char>);
static_assert(log::is_loggable_v<log::Safe>);
static_assert(log::is_loggable_v<log::Id>);
static_assert(log::is_loggable_v<int>);
static_assert(log::is_loggable_v<std::uint64_t>);
static_assert(log::is_loggable_v<double>);
static_assert(log::is_loggable_v<bool>);
static_assert(log::is_loggable_v<std::chrono::milliseconds>);
static_assert(log::is_loggable_v<TimePoint>);
static_assert(log::is_loggable_v<Mode>);
static_assert(log::is_loggable_v<edgeward::Error>);
static_assert(log::is_loggable_v<std::nullptr_t>);

// Captures lines written through the sink; restores stderr and defaults when done.
class Capture {
 public:
  explicit Capture(log::Options options = {}) {
    options.journal = log::Options::Journal::off;
    log::configure(options);
    log::set_sink([this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~Capture() {
    log::set_sink({});
    log::configure({});
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

const TimePoint kTs{std::chrono::milliseconds{1'795'394'918'123}};

bool valid_json(const std::string& text) {
  static simdjson::dom::parser parser;
  return parser.parse(text).error() == simdjson::SUCCESS;
}

}  // namespace

TEST_CASE("text lines carry time, level, event and typed fields", "[log]") {
  const std::string name = "openai";
  const std::string line = log::format_line(log::Level::warn, "upstream.connect_failed",
                                            {{"upstream", log::Safe{name}},
                                             {"status", 502},
                                             {"retry", false},
                                             {"ratio", 0.5},
                                             {"elapsed", std::chrono::microseconds{12'345}},
                                             {"mode", Mode::monitor},
                                             {"plain", Plain::a},
                                             {"state", "draining"},
                                             {"agent", nullptr}},
                                            log::Format::text, false, kTs);
  CHECK(line ==
        "2026-11-23T00:48:38.123Z warn upstream.connect_failed upstream=openai status=502 "
        "retry=false ratio=0.5 elapsed=12.345ms mode=monitor plain=7 state=draining agent=null");
}

TEST_CASE("text values with spaces, quotes or control bytes are JSON-quoted", "[log]") {
  const std::string path = "/etc/edge ward/x=\"y\"\n";
  const std::string line = log::format_line(log::Level::info, "config.loaded",
                                            {{"path", log::Safe{path}}, {"empty", log::Safe{""}}},
                                            log::Format::text, false, kTs);
  CHECK(line == R"(2026-11-23T00:48:38.123Z info config.loaded path="/etc/edge ward/x=\"y\"\n" )"
                R"(empty="")");
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("json lines are valid JSON with ts, level, event and the fields", "[log]") {
  const std::string nasty = "quote\" backslash\\ nl\n bad\xff utf8";
  const edgeward::Error err{"blob.bad_signature", "signature does not verify"};
  const std::string line = log::format_line(log::Level::error, "rules.blob_refused",
                                            {{"reason", err},
                                             {"detail", log::Safe{nasty}},
                                             {"version", std::uint64_t{4521}},
                                             {"at", kTs},
                                             {"took", std::chrono::milliseconds{3}},
                                             {"expired", true}},
                                            log::Format::json, false, kTs);
  CHECK(valid_json(line));
  CHECK(line ==
        R"({"ts":"2026-11-23T00:48:38.123Z","level":"error","event":"rules.blob_refused",)"
        R"("reason":"blob.bad_signature","detail":"quote\" backslash\\ nl\n bad)"
        "\xEF\xBF\xBD"
        R"( utf8","version":4521,"at":"2026-11-23T00:48:38.123Z","took":3,"expired":true})");
}

TEST_CASE("journald priority prefixes start the line when stderr is the journal", "[log]") {
  CHECK(log::journal_prefix(log::Level::error) == "<3>");
  CHECK(log::journal_prefix(log::Level::warn) == "<4>");
  CHECK(log::journal_prefix(log::Level::info) == "<6>");
  CHECK(log::journal_prefix(log::Level::debug) == "<7>");
  // journald stamps its own time: text lines leave it out.
  CHECK(log::format_line(log::Level::error, "a.b", {}, log::Format::text, true, kTs) ==
        "<3>error a.b");
  CHECK(log::format_line(log::Level::debug, "a.b", {{"n", 1}}, log::Format::text, true, kTs) ==
        "<7>debug a.b n=1");
  const std::string json =
      log::format_line(log::Level::warn, "a.b", {}, log::Format::json, true, kTs);
  REQUIRE(json.rfind("<4>{", 0) == 0);
  CHECK(valid_json(json.substr(3)));
}

TEST_CASE("journal detection matches JOURNAL_STREAM against the fd's device and inode", "[log]") {
  char path[] = "/tmp/edgeward_log_test_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  const std::string good = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                           std::to_string(static_cast<unsigned long long>(st.st_ino));
  const std::string other_ino = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                                std::to_string(static_cast<unsigned long long>(st.st_ino) + 1);
  CHECK(log::is_journal_stream(fd, good.c_str()));
  CHECK_FALSE(log::is_journal_stream(fd, other_ino.c_str()));
  CHECK_FALSE(log::is_journal_stream(fd, nullptr));
  CHECK_FALSE(log::is_journal_stream(fd, ""));
  CHECK_FALSE(log::is_journal_stream(fd, "garbage"));
  CHECK_FALSE(log::is_journal_stream(fd, ":"));
  CHECK_FALSE(log::is_journal_stream(fd, (good + "x").c_str()));
  CHECK_FALSE(log::is_journal_stream(fd, (":" + std::to_string(st.st_ino)).c_str()));
  CHECK_FALSE(log::is_journal_stream(-1, good.c_str()));
  ::close(fd);
  ::unlink(path);
}

TEST_CASE("lines below the configured level are dropped", "[log]") {
  Capture cap({log::Level::warn, log::Format::text});
  CHECK_FALSE(log::enabled(log::Level::info));
  CHECK(log::enabled(log::Level::error));
  log::debug("t.debug");
  log::info("t.info");
  log::warn("t.warn", {{"n", 1}});
  log::error("t.error");
  auto lines = cap.lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find(" warn t.warn n=1\n") != std::string::npos);
  CHECK(lines[1].find(" error t.error\n") != std::string::npos);
  log::set_level(log::Level::debug);
  CHECK(log::level() == log::Level::debug);
  log::debug("t.debug");
  CHECK(cap.lines().size() == 3);
}

TEST_CASE("configured json format reaches the sink one line per call", "[log]") {
  Capture cap({log::Level::info, log::Format::json});
  log::info("t.json", {{"id", log::Id{"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV"}}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].back() == '\n');
  CHECK(valid_json(lines[0]));
  CHECK(lines[0].find(R"("event":"t.json","id":"evt_01ARZ3NDEKTSV4RRFFQ69G5FAV"})") !=
        std::string::npos);
}

TEST_CASE("Id fields refuse anything that is not shaped like an id", "[log]") {
  auto text = [](std::string_view v) {
    return log::format_line(log::Level::info, "t.id", {{"id", log::Id{v}}}, log::Format::text, true,
                            kTs);
  };
  CHECK(text("0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11") ==
        "<6>info t.id id=0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11");
  CHECK(text("01ARZ3NDEKTSV4RRFFQ69G5FAV") == "<6>info t.id id=01ARZ3NDEKTSV4RRFFQ69G5FAV");
  CHECK(text("req_01ARZ3NDEKTSV4RRFFQ69G5FAV") == "<6>info t.id id=req_01ARZ3NDEKTSV4RRFFQ69G5FAV");
  CHECK(text("my secret prompt") == "<6>info t.id id=<not-an-id>");
  CHECK(text("sk-proj-abcdefghijklmnopqrstuvwxyz") == "<6>info t.id id=<not-an-id>");
  CHECK(text("EVT_01ARZ3NDEKTSV4RRFFQ69G5FAV") == "<6>info t.id id=<not-an-id>");
}

TEST_CASE("Safe values are cut so that a mistake cannot pour a body into the log", "[log]") {
  const std::string body(10'000, 'x');
  const std::string line = log::format_line(log::Level::info, "t.long", {{"v", log::Safe{body}}},
                                            log::Format::json, false, kTs);
  CHECK(valid_json(line));
  CHECK(line.size() < 400);
  CHECK(line.find(std::string(log::kMaxSafeBytes, 'x') + "\xE2\x80\xA6\"") != std::string::npos);
}

TEST_CASE("lines from many threads arrive whole", "[log]") {
  Capture cap({log::Level::info, log::Format::json});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 250; ++i) log::info("t.thread", {{"thread", t}, {"i", i}});
    });
  }
  for (auto& th : threads) th.join();
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1000);
  for (const auto& l : lines) {
    REQUIRE(l.back() == '\n');
    REQUIRE(valid_json(l));
  }
}

TEST_CASE("the default sink writes each line to stderr", "[log]") {
  // Point fd 2 at a file for the duration of the test.
  char path[] = "/tmp/edgeward_log_stderr_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(::dup2(fd, 2) == 2);
  log::configure({log::Level::info, log::Format::text, log::Options::Journal::off});
  log::info("t.stderr", {{"n", 42}});
  ::dup2(saved, 2);
  ::close(saved);
  log::configure({});
  char buf[256] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  ::unlink(path);
  REQUIRE(n > 0);
  const std::string written(buf, static_cast<std::size_t>(n));
  CHECK(written.size() == 24 + std::string(" info t.stderr n=42\n").size());
  CHECK(written.substr(24) == " info t.stderr n=42\n");
}

TEST_CASE("levels and formats parse from config words and refuse others", "[log]") {
  CHECK(*log::parse_level("debug") == log::Level::debug);
  CHECK(*log::parse_level("warning") == log::Level::warn);
  CHECK(*log::parse_format("json") == log::Format::json);
  auto bad = log::parse_level("verbose");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "log.bad_level");
  auto bad_format = log::parse_format("xml");
  REQUIRE_FALSE(bad_format.ok());
  CHECK(bad_format.error().code == "log.bad_format");
  CHECK(log::to_string(log::Level::warn) == "warn");
  CHECK(log::to_string(log::Format::text) == "text");
}
