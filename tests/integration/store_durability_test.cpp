// Durability (issue 6, point 6): edgewardd is killed with SIGKILL during a burst of blocked
// requests. Every event it had reported as committed (/status rules.events.committed) is in the
// database afterwards, `PRAGMA integrity_check` is ok, and after a restart the writer resumes.

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "store/database.hpp"
#include "tests/integration/harness.hpp"

using namespace edgeward::testing;
using namespace std::chrono_literals;

namespace {

// rules.events.committed from GET /status, or -1 when the daemon did not answer.
long long committed_of(std::uint16_t admin_port) {
  const std::string body = body_of(http_once(admin_port, "GET", "/status", {}, {}, 2000ms));
  const auto p = body.find("\"committed\":");
  return p == std::string::npos ? -1 : std::atoll(body.c_str() + p + 12);
}

std::int64_t query_int(const std::string& state_dir, const std::string& sql) {
  auto db = edgeward::store::open_read_only(state_dir);
  REQUIRE(db);
  auto v = db->query_int(sql);
  REQUIRE(v);
  return *v;
}

std::string integrity(const std::string& state_dir) {
  auto db = edgeward::store::open_read_only(state_dir);
  REQUIRE(db);
  auto st = edgeward::store::sqlite::Statement::prepare(db->get(), "PRAGMA integrity_check");
  REQUIRE(st);
  edgeward::store::sqlite::Statement::Run run(*st);
  REQUIRE(run.step() == SQLITE_ROW);
  return std::string(run.text(0));
}

const std::string kBlocked =
    R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"key AKIAQWERTYUIOPASDFGH"}]})";

}  // namespace

TEST_CASE(
    "after SIGKILL during a burst every committed event is in an intact database, and the "
    "writer resumes after a restart",
    "[integration][store][durability]") {
  Gateway g;
  REQUIRE(g.ready());
  REQUIRE(status_of(http_once(g.port, "POST", "/v1/chat/completions", kBlocked,
                              "Content-Type: application/json\r\n")) == 403);

  std::atomic<bool> stop{false};
  std::atomic<int> blocked{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        const std::string r = http_once(g.port, "POST", "/v1/chat/completions", kBlocked,
                                        "Content-Type: application/json\r\n", 2000ms);
        if (status_of(r) == 403) blocked.fetch_add(1);
      }
    });
  }
  // Let the burst run, then read the committed counter and kill at once.
  long long committed = -1;
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    committed = std::max(committed, committed_of(g.admin_port));
    std::this_thread::sleep_for(20ms);
  }
  const long long last_seen = committed_of(g.admin_port);
  committed = std::max(committed, last_seen);
  g.edgewardd().signal(SIGKILL);
  CHECK(g.edgewardd().wait(5000ms) == -1);  // died from the signal
  stop = true;
  for (auto& t : clients) t.join();

  INFO("committed before the kill: " << committed << ", 403s seen: " << blocked.load());
  REQUIRE(committed > 0);
  const std::int64_t rows = query_int(g.dir.path, "SELECT count(*) FROM events");
  CHECK(rows >= committed);
  CHECK(integrity(g.dir.path) == "ok");

  // Restart: the writer opens the same database and keeps writing.
  g.start_edgewardd();
  REQUIRE(g.ready());
  REQUIRE(status_of(http_once(g.port, "POST", "/v1/chat/completions", kBlocked,
                              "Content-Type: application/json\r\n")) == 403);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (committed_of(g.admin_port) < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(committed_of(g.admin_port) == 1);
  CHECK(query_int(g.dir.path, "SELECT count(*) FROM events") == rows + 1);
  REQUIRE(g.edgewardd().terminate(30s) == 0);
  CHECK(integrity(g.dir.path) == "ok");
}
