#include "store/wal_checkpointer.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "store/database.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using edgeward::store::testing::eventually;
using edgeward::store::testing::TempStateDir;

namespace {

// One write transaction of `rows` rows of ~1 KiB each into agent_state (about a page each).
void write_rows(sqlite::Connection& db, int rows, int& next) {
  REQUIRE(db.exec("BEGIN IMMEDIATE"));
  for (int i = 0; i < rows; ++i, ++next) {
    REQUIRE(db.exec("INSERT INTO agent_state VALUES ('k" + std::to_string(next) +
                    "', printf('%.1000c', 'x'), 't')"));
  }
  REQUIRE(db.exec("COMMIT"));
}

struct Connections {
  TempStateDir dir;
  sqlite::Connection writer, own;
  Connections() {
    auto w = open_read_write(dir.path());
    REQUIRE(w);
    writer = std::move(*w);
    auto o = open_read_write(dir.path());
    REQUIRE(o);
    own = std::move(*o);
  }
};

}  // namespace

TEST_CASE("past the soft limit the thread checkpoints, and the writer's commits do not",
          "[store][checkpoint]") {
  Connections c;
  // Each transaction below writes more than 5 pages, so each one alone wakes the thread.
  WalCheckpointer ckpt(c.writer.get(), std::move(c.own), {.soft_frames = 5, .hard_frames = 5000});
  int next = 0;
  int largest = 0;
  auto commit = [&] {
    write_rows(c.writer, 5, next);
    largest = std::max(largest, ckpt.wal_frames());
    ckpt.after_commit();
  };
  for (int group = 0; group < 5; ++group) {
    // A few commits back to back, then a pause, as a lightly loaded writer commits.
    for (int t = 0; t < 4; ++t) commit();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the thread goes idle
    // This commit wakes the idle thread, whose run then covers the whole WAL...
    const auto runs = ckpt.thread_checkpoints();
    commit();
    REQUIRE(eventually([&] { return ckpt.thread_checkpoints() > runs; }));
    // ...so the next transaction starts the WAL over (if an earlier run had not already).
    commit();
  }
  // The WAL started over at least once per group: it never held more than a group's six
  // transactions (~12 pages each), where without checkpoints it would hold all 30 (~360).
  CHECK(largest < 150);
  CHECK(ckpt.inline_checkpoints() == 0);
  ckpt.stop();
  CHECK(*c.writer.query_int("SELECT count(*) FROM agent_state") == 5 * 6 * 5);
}

TEST_CASE("past the hard limit the writer checkpoints itself, so the WAL restarts",
          "[store][checkpoint]") {
  Connections c;
  WalCheckpointer ckpt(c.writer.get(), std::move(c.own), {.soft_frames = 10, .hard_frames = 40});
  int next = 0;
  int largest = 0;
  // Back to back transactions of ~25 pages: each one alone crosses the soft limit, and two
  // cross the hard one.
  for (int t = 0; t < 40; ++t) {
    write_rows(c.writer, 25, next);
    largest = std::max(largest, ckpt.wal_frames());
    ckpt.after_commit();
  }
  CHECK(ckpt.inline_checkpoints() > 0);
  // Bounded by the hard limit plus one transaction, never the ~1000 pages written in all.
  CHECK(largest < 40 + 60);
  ckpt.stop();
  CHECK(*c.writer.query_int("SELECT count(*) FROM agent_state") == 1000);
}

TEST_CASE("after stop() commits run without a hook into the stopped checkpointer",
          "[store][checkpoint]") {
  Connections c;
  {
    WalCheckpointer ckpt(c.writer.get(), std::move(c.own), {.soft_frames = 1, .hard_frames = 2});
    ckpt.stop();
  }
  int next = 0;
  write_rows(c.writer, 10, next);  // under ASan, a dangling hook would be a use after free
  CHECK(*c.writer.query_int("SELECT count(*) FROM agent_state") == 10);
}
