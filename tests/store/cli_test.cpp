// `edgeward events …` and `edgeward status` run as processes against a store filled here.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "store/database.hpp"
#include "store/rule_blob_store.hpp"
#include "tests/store/cli_process.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using namespace std::chrono_literals;
using edgeward::store::testing::CliProcess;
using edgeward::store::testing::make_event;
using edgeward::store::testing::run_cli;
using edgeward::store::testing::TempStateDir;

namespace {

timefmt::TimePoint at(const char* text) {
  return *timefmt::parse_rfc3339(text);
}

// A state dir with four known events (ids 1..4) and a scratch dir for the CLI's output.
struct CliFixture {
  TempStateDir state;
  TempStateDir scratch;
  std::vector<std::string> uids;

  CliFixture() {
    auto writer = EventWriter::open(state.path());
    REQUIRE(writer);
    auto add = [&](Event e) {
      uids.push_back(e.uid);
      REQUIRE((*writer)->submit(std::move(e)));
    };
    add(make_event(Severity::kHigh, "DLP.PII.IBAN", at("2026-11-20T10:00:00Z")));
    add(make_event(Severity::kCritical, "DLP.SECRET.AWS_ACCESS_KEY", at("2026-11-20T11:00:00Z")));
    auto third = make_event(Severity::kHigh, "DLP.PII.EMAIL", at("2026-11-20T12:00:00Z"));
    auto fourth =
        make_event(Severity::kLow, "INJECTION.PROMPT_OVERRIDE", at("2026-11-20T13:00:00Z"));
    add(std::move(third));
    add(std::move(fourth));
    REQUIRE((*writer)->shutdown());
  }

  testing::CliResult run(std::vector<std::string> args) {
    // Right after the (sub)command, so that a test can end the line with a flag.
    const auto at = args.begin() + (args.size() >= 2 && args[0] == "events" ? 2 : 1);
    args.insert(at, {"--state-dir", state.path().string()});
    return run_cli(args, scratch.path());
  }
};

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("events list --json prints every DESIGN §4 field of each event, newest first",
          "[cli][events]") {
  CliFixture f;
  auto r = f.run({"events", "list", "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.front() == '[');
  CHECK(count_of(r.out, "\"uid\":") == 4);
  CHECK(r.out.find(f.uids[3]) < r.out.find(f.uids[0]));
  for (const char* field :
       {"\"id\":", "\"agent_id\":", "\"rule_id\":", "\"scope\":\"request\"",
        "\"matched_in\":\"body\"", "\"request_method\":\"POST\"",
        "\"occurred_at\":\"2026-11-20T13:00:00.000Z\"",
        "\"reason_code\":", "\"severity\":", "\"retry\":false", "\"layer\":\"pre-template\"",
        "\"request_id\":", "\"action\":\"block\"", "\"path_hash\":", "\"rule_version\":7",
        "\"model\":\"gpt-4o-mini\"", "\"upstream\":\"openai\"", "\"session\":"}) {
    INFO(field);
    CHECK(r.out.find(field) != std::string::npos);
  }
}

TEST_CASE("events list filters by severity, reason prefix and time window", "[cli][events]") {
  CliFixture f;
  auto r = f.run({"events", "list", "--json", "--severity", "high"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 2);
  r = f.run({"events", "list", "--json", "--reason", "dlp.pii"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 2);
  r = f.run({"events", "list", "--json", "--since", "2026-11-20T11:00:00Z", "--until",
             "2026-11-20T13:00:00Z"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 2);
  CHECK(r.out.find(f.uids[1]) != std::string::npos);
  CHECK(r.out.find(f.uids[2]) != std::string::npos);
  r = f.run({"events", "list", "--json", "--limit=1", "--severity=critical,low"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 1);
  CHECK(r.out.find(f.uids[3]) != std::string::npos);
  // A relative --since of one hour excludes these 2026-11-20 events.
  r = f.run({"events", "list", "--json", "--since", "1h"});
  REQUIRE(r.code == 0);
  CHECK(r.out == "[]\n");
}

TEST_CASE("events list prints an aligned table with a header", "[cli][events]") {
  CliFixture f;
  auto r = f.run({"events", "list"});
  REQUIRE(r.code == 0);
  std::vector<std::string> lines;
  std::stringstream ss(r.out);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].rfind("TIME", 0) == 0);
  const auto col = lines[0].find("REASON");
  REQUIRE(col != std::string::npos);
  // Every row's reason starts in the header's REASON column.
  CHECK(lines[1].substr(col, 25) == "INJECTION.PROMPT_OVERRIDE");
  CHECK(lines[4].substr(col, 12) == "DLP.PII.IBAN");
  CHECK(lines[1].find(f.uids[3]) != std::string::npos);
}

TEST_CASE("bad filter values exit 2 with a specific message", "[cli][events][errors]") {
  CliFixture f;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const Case cases[] = {
      {{"events", "list", "--severity", "urgent"},
       "edgeward events: bad --severity 'urgent': expected critical, high, medium, low or info "
       "(comma-separated for several)\n"},
      {{"events", "list", "--since", "yesterday"},
       "edgeward events: bad --since 'yesterday': expected a duration before now (30m, 1h, 7d) "
       "or an RFC 3339 time (2026-11-23T00:00:00Z)\n"},
      {{"events", "list", "--until", "2026-13-01T00:00:00Z"},
       "edgeward events: bad --until '2026-13-01T00:00:00Z': expected a duration before now "
       "(30m, 1h, 7d) or an RFC 3339 time (2026-11-23T00:00:00Z)\n"},
      {{"events", "list", "--limit", "-1"},
       "edgeward events: bad --limit '-1': expected a positive integer\n"},
      {{"events", "list", "--limit", "0"},
       "edgeward events: bad --limit '0': expected a positive integer\n"},
      {{"events", "list", "--limit", "ten"},
       "edgeward events: bad --limit 'ten': expected a positive integer\n"},
      {{"events", "list", "--reason", "DLP PII"},
       "edgeward events: bad --reason 'DLP PII': expected a reason code prefix of letters, "
       "digits, '_' and '.' (e.g. DLP.PII)\n"},
      {{"events", "list", "--since", "1h", "--until", "2h"},
       "edgeward events: --since 1h is not before --until 2h\n"},
      {{"events", "list", "--limit"}, "edgeward events: --limit needs a value\n"},
      {{"events", "list", "--bogus"}, "edgeward events: unknown option '--bogus'\n"},
      {{"events", "frobnicate"},
       "edgeward events: unknown subcommand 'frobnicate' (list, tail, show, export, stats)\n"},
      {{"events", "show"},
       "edgeward events: events show needs one event uid (evt_…) or request id (req_…)\n"},
      {{"events", "show", "42"},
       "edgeward events: '42' is not an event uid (evt_…) or a request id (req_…)\n"},
      {{"events", "show", "evt_01JDZZZZZZZZZZZZZZZZZZZZZZ"},
       "edgeward events: no event with uid evt_01JDZZZZZZZZZZZZZZZZZZZZZZ\n"},
      {{"events", "export", "--format", "csv"},
       "edgeward events: unsupported --format 'csv': the only format is ndjson\n"},
  };
  for (const auto& c : cases) {
    auto r = f.run(c.args);
    INFO(c.args[1] + " " + (c.args.size() > 2 ? c.args[2] : ""));
    CHECK(r.code == 2);
    CHECK(r.err == c.message);
    CHECK(r.out.empty());
  }
}

TEST_CASE("events commands explain a missing state dir, a missing database and a newer schema",
          "[cli][events][errors]") {
  TempStateDir scratch;
  TempStateDir empty;
  auto r =
      run_cli({"events", "list", "--state-dir", (empty.path() / "nope").string()}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err == "edgeward events: state directory " + (empty.path() / "nope").string() +
                     " does not exist (is edgewardd installed? use --state-dir DIR)\n");
  r = run_cli({"events", "list", "--state-dir", empty.path().string()}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err == "edgeward events: no event database at " +
                     (empty.path() / "edgeward.db").string() +
                     " (edgewardd has not run with this state directory yet)\n");
  {
    auto db = open_read_write(empty.path());
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version = 7"));
  }
  r = run_cli({"events", "stats", "--state-dir", empty.path().string()}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err.find("edgeward events: " + (empty.path() / "edgeward.db").string() +
                   " has schema version 7 but this edgeward understands up to " +
                   std::to_string(schema_version_supported())) == 0);
}

TEST_CASE("events commands ask to start the daemon once on an older schema",
          "[cli][events][errors]") {
  // What an admin meets between upgrading the package and restarting edgewardd.
  TempStateDir scratch;
  TempStateDir dir;
  {
    auto db = open_read_write(dir.path());
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA user_version = 1"));
  }
  auto r = run_cli({"events", "list", "--state-dir", dir.path().string()}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err == "edgeward events: " + (dir.path() / "edgeward.db").string() +
                     " has schema version 1; start edgewardd once to migrate it to version " +
                     std::to_string(schema_version_supported()) + "\n");
  CHECK(r.out.empty());
}

TEST_CASE("events show prints one event, or every event of a request", "[cli][events]") {
  CliFixture f;
  auto r = f.run({"events", "show", f.uids[1]});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("reason_code     DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  CHECK(r.out.find("severity        critical") != std::string::npos);
  r = f.run({"events", "show", f.uids[1], "--json"});
  REQUIRE(r.code == 0);
  CHECK(r.out.front() == '{');
  CHECK(r.out.find("\"uid\":\"" + f.uids[1] + "\"") != std::string::npos);
  // Two events of one request, recorded as the request ran (now).
  auto a = make_event(Severity::kHigh, "DLP.PII.IBAN");
  auto b = make_event(Severity::kLow, "DLP.PII.EMAIL");
  b.request_id = a.request_id;
  const std::string request_id = a.request_id;
  {
    auto writer = EventWriter::open(f.state.path());
    REQUIRE(writer);
    REQUIRE((*writer)->submit(std::move(a)));
    REQUIRE((*writer)->submit(std::move(b)));
    REQUIRE((*writer)->shutdown());
  }
  r = f.run({"events", "show", request_id, "--json"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 2);
  CHECK(r.out.front() == '[');
}

TEST_CASE("events export writes every event as NDJSON, oldest first", "[cli][events]") {
  CliFixture f;
  auto r = f.run({"events", "export", "--format", "ndjson"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\n") == 4);
  CHECK(r.out.rfind("{\"id\":1,", 0) == 0);
  CHECK(r.out.find(f.uids[0]) < r.out.find(f.uids[3]));
  r = f.run({"events", "export", "--severity", "high"});
  REQUIRE(r.code == 0);
  CHECK(count_of(r.out, "\n") == 2);
}

TEST_CASE("events stats counts by reason code and severity over the window", "[cli][events]") {
  CliFixture f;
  auto r = f.run({"events", "stats", "--since", "2026-11-20T00:00:00Z", "--json"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"total\":4") != std::string::npos);
  CHECK(
      r.out.find("\"by_severity\":{\"critical\":1,\"high\":2,\"medium\":0,\"low\":1,\"info\":0}") !=
      std::string::npos);
  CHECK(r.out.find("{\"reason_code\":\"DLP.PII.IBAN\",\"severity\":\"high\",\"count\":1,"
                   "\"first\":\"2026-11-20T10:00:00.000Z\"") != std::string::npos);
  // The default window is the last 24 hours: these events are older.
  r = f.run({"events", "stats", "--json"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"total\":0") != std::string::npos);
  r = f.run({"events", "stats", "--since", "2026-11-20T00:00:00Z"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("total:  4 events") != std::string::npos);
  CHECK(r.out.find("REASON") != std::string::npos);
}

TEST_CASE("events tail prints the backlog, follows new rows, and exits 0 on SIGINT",
          "[cli][events][tail]") {
  CliFixture f;
  CliProcess tail({"events", "tail", "--json", "--limit", "2", "--interval", "20ms", "--state-dir",
                   f.state.path().string()},
                  f.scratch.path());
  REQUIRE(testing::eventually([&] { return count_of(tail.out(), "\n") == 2; }));
  CHECK(tail.out().find(f.uids[2]) != std::string::npos);
  CHECK(tail.out().find(f.uids[0]) == std::string::npos);
  auto fresh = make_event(Severity::kMedium, "EGRESS.UNAPPROVED_DOMAIN");
  const std::string uid = fresh.uid;
  {
    auto writer = EventWriter::open(f.state.path());
    REQUIRE(writer);
    REQUIRE((*writer)->submit(std::move(fresh)));
    REQUIRE((*writer)->shutdown());
  }
  REQUIRE(testing::eventually([&] { return tail.out().find(uid) != std::string::npos; }));
  CHECK(count_of(tail.out(), "\n") == 3);
  tail.signal(SIGINT);
  CHECK(tail.wait(5000ms) == 0);
}

TEST_CASE("events tail exits 0 on SIGTERM", "[cli][events][tail]") {
  CliFixture f;
  CliProcess tail({"events", "tail", "--state-dir", f.state.path().string()}, f.scratch.path());
  REQUIRE(testing::eventually([&] { return tail.out().find("TIME") != std::string::npos; }));
  tail.signal(SIGTERM);
  CHECK(tail.wait(5000ms) == 0);
}

TEST_CASE("the CLI reads a state dir it cannot write, while the daemon is stopped",
          "[cli][events][readonly]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to run the CLI as another user");
    return;
  }
  CliFixture f;
  // World-readable, writable by root only, as /var/lib/edgeward is for an unprivileged admin.
  ::chmod(f.state.path().c_str(), 0755);
  for (const auto& entry : std::filesystem::directory_iterator(f.state.path())) {
    ::chmod(entry.path().c_str(), 0644);
  }
  ::chmod(f.scratch.path().c_str(), 0777);
  auto r = run_cli({"events", "list", "--json", "--state-dir", f.state.path().string()},
                   f.scratch.path(), 65534);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 4);
  // With no -wal/-shm left at all (a daemon that never ran with persistent WAL), it still reads.
  std::filesystem::remove(database_path(f.state.path()).string() + "-wal");
  std::filesystem::remove(database_path(f.state.path()).string() + "-shm");
  r = run_cli({"events", "list", "--json", "--state-dir", f.state.path().string()},
              f.scratch.path(), 65534);
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(count_of(r.out, "\"uid\":") == 4);
}

TEST_CASE("the CLI explains a database it is not allowed to read", "[cli][events][readonly]") {
  if (::geteuid() != 0) {
    WARN("skipped: needs root to run the CLI as another user");
    return;
  }
  CliFixture f;
  ::chmod(f.state.path().c_str(), 0755);
  ::chmod(database_path(f.state.path()).c_str(), 0600);
  ::chmod(f.scratch.path().c_str(), 0777);
  auto r =
      run_cli({"events", "list", "--state-dir", f.state.path().string()}, f.scratch.path(), 65534);
  CHECK(r.code == 2);
  CHECK(r.err == "edgeward events: cannot read " + database_path(f.state.path()).string() +
                     ": Permission denied (run as root or as the user edgewardd runs as)\n");
}

namespace {

// A one-shot HTTP server on 127.0.0.1 answering every connection with `reply`.
class FakeAdmin {
 public:
  explicit FakeAdmin(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(fd_, 4) == 0);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      request_ = req;
      (void)::send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~FakeAdmin() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& request() const { return request_; }

 private:
  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("status shows the daemon's /status document and the state dir", "[cli][status]") {
  CliFixture f;
  const std::string body = R"({"version":"0.1.0","rules":{"version":12,"state":"active"}})";
  FakeAdmin admin("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  auto r = f.run({"status", "--admin", admin.address(), "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(admin.request().rfind("GET /status HTTP/1.1\r\n", 0) == 0);
  CHECK(r.out.find("\"reachable\":true") != std::string::npos);
  CHECK(r.out.find("\"status\":" + body) != std::string::npos);
  CHECK(r.out.find("\"events\":4") != std::string::npos);
}

TEST_CASE("status human output flattens the daemon's document", "[cli][status]") {
  CliFixture f;
  const std::string body = R"({"version":"0.1.0","rules":{"version":12,"state":"active"}})";
  FakeAdmin admin("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                  [&] {
                    char size[16];
                    std::snprintf(size, sizeof size, "%zx", body.size());
                    return std::string(size);
                  }() +
                  "\r\n" + body + "\r\n0\r\n\r\n");
  auto r = f.run({"status", "--admin", admin.address()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("daemon: running (admin " + admin.address() + ")") != std::string::npos);
  CHECK(r.out.find("rules.version  12") != std::string::npos);
  CHECK(r.out.find("events          4") != std::string::npos);
}

TEST_CASE("status falls back to the state dir when the daemon is not running", "[cli][status]") {
  CliFixture f;
  // Port 1 on loopback: nothing listens there.
  auto r = f.run({"status", "--admin", "127.0.0.1:1", "--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"reachable\":false") != std::string::npos);
  CHECK(r.out.find("Connection refused") != std::string::npos);
  CHECK(r.out.find("\"events\":4") != std::string::npos);
  CHECK(r.out.find("\"last_event\":{\"id\":4,") != std::string::npos);
  CHECK(r.out.find("\"rules_version\":null") != std::string::npos);
}

TEST_CASE("status reports the active rules version from the store", "[cli][status]") {
  CliFixture f;
  {
    auto blobs = RuleBlobStore::open(f.state.path());
    REQUIRE(blobs);
    RuleBlob b;
    b.version = 4521;
    b.sha256 = std::string(64, 'a');
    b.envelope = "{}";
    b.received_at = timefmt::now();
    REQUIRE((*blobs)->put(b));
    REQUIRE((*blobs)->activate(4521, b.sha256));
  }
  auto r = f.run({"status", "--admin", "127.0.0.1:1"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("daemon: not reachable at 127.0.0.1:1") != std::string::npos);
  CHECK(r.out.find("rules version   4521") != std::string::npos);
}

TEST_CASE("status exits 2 when neither the daemon nor the state dir answers",
          "[cli][status][errors]") {
  TempStateDir scratch;
  auto r = run_cli(
      {"status", "--admin", "127.0.0.1:1", "--state-dir", (scratch.path() / "nope").string()},
      scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err.find("edgeward status: daemon at 127.0.0.1:1: cannot connect to 127.0.0.1:1: "
                   "Connection refused\n") == 0);
  CHECK(r.err.find("edgeward status: state dir: state directory ") != std::string::npos);
}

TEST_CASE("status refuses bad arguments", "[cli][status][errors]") {
  TempStateDir scratch;
  auto r = run_cli({"status", "--timeout", "soon"}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err ==
        "edgeward status: bad --timeout 'soon': expected a positive duration (500ms, 2s)\n");
  r = run_cli({"status", "--admin", "nowhere", "--state-dir", "/nonexistent"}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err.find("bad admin address 'nowhere': expected host:port or unix:/path") !=
        std::string::npos);
  r = run_cli({"status", "--frob"}, scratch.path());
  CHECK(r.code == 2);
  CHECK(r.err == "edgeward status: unknown option '--frob'\n");
}
