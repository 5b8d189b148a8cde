#include "store/event_writer.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/outbox.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using namespace std::chrono_literals;
using edgeward::store::testing::eventually;
using edgeward::store::testing::make_event;
using edgeward::store::testing::TempStateDir;

namespace {

std::int64_t count_rows(const std::filesystem::path& dir, const char* where = "1") {
  auto db = open_read_only(dir);
  REQUIRE(db);
  return *db->query_int(std::string("SELECT count(*) FROM events WHERE ") + where);
}

std::unique_ptr<EventWriter> open_writer(const std::filesystem::path& dir,
                                         const WriterOptions& options = {}) {
  auto w = EventWriter::open(dir, options);
  REQUIRE(w);
  return std::move(*w);
}

// Another process's connection holding the database's write lock (BEGIN EXCLUSIVE).
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::filesystem::path& dir) {
    auto db = sqlite::Connection::open(database_path(dir), sqlite::OpenMode::kReadWriteCreate);
    REQUIRE(db);
    db_ = std::move(*db);
    REQUIRE(db_.exec("BEGIN EXCLUSIVE"));
    REQUIRE(db_.exec("INSERT INTO agent_state VALUES ('lock', 'held', 'x')"));
  }
  void release() { REQUIRE(db_.exec("ROLLBACK")); }

 private:
  sqlite::Connection db_;
};

}  // namespace

TEST_CASE("every submitted event is committed, in batches of at most batch_size",
          "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 100;
  auto writer = open_writer(dir.path(), options);
  for (int i = 0; i < 1000; ++i) REQUIRE(writer->submit(make_event()));
  REQUIRE(eventually([&] { return writer->counters().committed == 1000; }));
  const auto c = writer->counters();
  CHECK(c.submitted == 1000);
  CHECK(c.queued == 0);
  CHECK(c.dropped == 0);
  CHECK(c.write_errors == 0);
  CHECK(c.batches >= 10);
  CHECK(c.batches <= 1000);
  CHECK(count_rows(dir.path()) == 1000);
}

TEST_CASE("a partial batch is committed after flush_interval", "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 10000;
  options.flush_interval = 5ms;
  auto writer = open_writer(dir.path(), options);
  for (int i = 0; i < 3; ++i) REQUIRE(writer->submit(make_event()));
  REQUIRE(eventually([&] { return writer->counters().committed == 3; }, 2000ms));
  CHECK(writer->counters().batches == 1);
  CHECK(count_rows(dir.path()) == 3);
}

TEST_CASE("stored rows read back with every field as submitted", "[store][writer]") {
  TempStateDir dir;
  auto e = make_event(Severity::kCritical, "DLP.SECRET.AWS_ACCESS_KEY");
  e.scope = Scope::kResponse;
  e.matched_in = MatchedIn::kTools;
  e.layer = Layer::kToolCall;
  e.action = Action::kRedact;
  e.retry = true;
  e.agent_id.reset();
  const Event copy = e;
  {
    auto writer = open_writer(dir.path());
    REQUIRE(writer->submit(std::move(e)));
    REQUIRE(writer->shutdown());
  }
  auto box = Outbox::open(dir.path());
  REQUIRE(box);
  auto rows = (*box)->next_batch(10);
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  const Event& got = rows->front();
  CHECK(got.id == 1);
  CHECK_FALSE(got.agent_id);
  CHECK(got.rule_id == copy.rule_id);
  CHECK(got.scope == Scope::kResponse);
  CHECK(got.matched_in == MatchedIn::kTools);
  CHECK(got.request_method == copy.request_method);
  CHECK(got.occurred_at == copy.occurred_at);
  CHECK(got.reason_code == copy.reason_code);
  CHECK(got.severity == Severity::kCritical);
  CHECK(got.retry);
  CHECK(got.layer == Layer::kToolCall);
  CHECK(got.uid == copy.uid);
  CHECK(got.request_id == copy.request_id);
  CHECK(got.action == Action::kRedact);
  CHECK(got.path_hash == copy.path_hash);
  CHECK(got.rule_version == copy.rule_version);
  CHECK(got.model == copy.model);
  CHECK(got.upstream == copy.upstream);
  CHECK(got.session == copy.session);
  CHECK_FALSE(got.uploaded);
}

TEST_CASE("shutdown commits everything still queued", "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 100000;
  options.flush_interval = 60000ms;  // nothing would be flushed by time before shutdown
  auto writer = open_writer(dir.path(), options);
  for (int i = 0; i < 500; ++i) REQUIRE(writer->submit(make_event()));
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().committed == 500);
  CHECK(writer->counters().queued == 0);
  CHECK(count_rows(dir.path()) == 500);
  // After shutdown, submit refuses and counts.
  CHECK_FALSE(writer->submit(make_event()));
  CHECK(writer->counters().dropped == 1);
  // Idempotent.
  CHECK(writer->shutdown());
}

TEST_CASE("malformed events are refused at submit and counted as rejected", "[store][writer]") {
  TempStateDir dir;
  auto writer = open_writer(dir.path());
  auto bad = make_event();
  bad.path_hash = "/v1/chat/completions?q=secret";
  CHECK_FALSE(writer->submit(std::move(bad)));
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().rejected == 1);
  CHECK(writer->counters().submitted == 0);
  CHECK(count_rows(dir.path()) == 0);
}

TEST_CASE("a duplicate uid is skipped without failing its batch", "[store][writer]") {
  TempStateDir dir;
  auto writer = open_writer(dir.path());
  auto a = make_event();
  auto b = make_event();
  b.uid = a.uid;
  REQUIRE(writer->submit(std::move(a)));
  REQUIRE(writer->submit(std::move(b)));
  REQUIRE(writer->submit(make_event()));
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().committed == 2);
  CHECK(writer->counters().rejected == 1);
  CHECK(count_rows(dir.path()) == 2);
}

TEST_CASE("a duplicate uid inside a multi-row insert skips only that row", "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 1000;
  options.flush_interval = std::chrono::milliseconds(60000);
  auto writer = open_writer(dir.path(), options);
  std::string first_uid;
  for (int i = 0; i < 100; ++i) {
    auto e = make_event();
    if (i == 0) first_uid = e.uid;
    if (i == 40) e.uid = first_uid;
    REQUIRE(writer->submit(std::move(e)));
  }
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().committed == 99);
  CHECK(writer->counters().rejected == 1);
  CHECK(writer->counters().batches == 1);
  CHECK(count_rows(dir.path()) == 99);
}

TEST_CASE("events submitted from many threads are all committed once", "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 256;
  auto writer = open_writer(dir.path(), options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) (void)writer->submit(make_event());
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().committed == 10000);
  CHECK(count_rows(dir.path()) == 10000);
}

TEST_CASE(
    "while another connection holds the write lock, events wait in memory and are "
    "committed once it is released",
    "[store][writer][locked]") {
  TempStateDir dir;
  { auto w = open_writer(dir.path()); }
  WriteLockHolder lock(dir.path());
  WriterOptions options;
  options.retry_initial = 5ms;
  options.retry_max = 20ms;
  auto writer = open_writer(dir.path(), options);
  for (int i = 0; i < 10; ++i) REQUIRE(writer->submit(make_event()));
  REQUIRE(eventually([&] { return writer->counters().write_errors >= 2; }));
  CHECK(writer->counters().committed == 0);
  CHECK(writer->counters().queued == 10);
  lock.release();
  REQUIRE(eventually([&] { return writer->counters().committed == 10; }));
  CHECK(writer->counters().queued == 0);
  CHECK(writer->counters().dropped == 0);
  CHECK(count_rows(dir.path()) == 10);
}

TEST_CASE("past queue_capacity submit drops and counts instead of blocking",
          "[store][writer][locked]") {
  TempStateDir dir;
  { auto w = open_writer(dir.path()); }
  WriteLockHolder lock(dir.path());
  WriterOptions options;
  options.queue_capacity = 100;
  options.retry_initial = 5ms;
  options.retry_max = 20ms;
  auto writer = open_writer(dir.path(), options);
  int accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 150; ++i) accepted += writer->submit(make_event()) ? 1 : 0;
  // Never blocked on the locked database: 150 submits take far less than one busy timeout.
  CHECK(std::chrono::steady_clock::now() - start < 100ms);
  CHECK(accepted == 100);
  CHECK(writer->counters().dropped == 50);
  CHECK(writer->counters().queued == 100);
  lock.release();
  REQUIRE(eventually([&] { return writer->counters().committed == 100; }));
  CHECK(count_rows(dir.path()) == 100);
}

TEST_CASE(
    "shutdown gives up after shutdown_timeout when the database stays locked, and counts "
    "the loss",
    "[store][writer][locked]") {
  TempStateDir dir;
  { auto w = open_writer(dir.path()); }
  WriteLockHolder lock(dir.path());
  WriterOptions options;
  options.retry_initial = 5ms;
  options.retry_max = 20ms;
  options.shutdown_timeout = 200ms;
  auto writer = open_writer(dir.path(), options);
  for (int i = 0; i < 5; ++i) REQUIRE(writer->submit(make_event()));
  const auto start = std::chrono::steady_clock::now();
  auto st = writer->shutdown();
  CHECK(std::chrono::steady_clock::now() - start < 2000ms);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == "store.shutdown_incomplete");
  CHECK(writer->counters().dropped == 5);
  CHECK(writer->counters().queued == 0);
  lock.release();
}

namespace {

// A small tmpfs mounted on a fresh directory, unmounted at the end of the test. Needs root.
class SmallTmpfs {
 public:
  SmallTmpfs(const std::filesystem::path& at, const char* size) : at_(at) {
    std::filesystem::create_directories(at_);
    const std::string opts = std::string("size=") + size;
    mounted_ = ::mount("tmpfs", at_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

// Writes zeros to `path` until the filesystem is full.
void fill_filesystem(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f);
  std::vector<char> block(4096, 0);
  while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
  }
  std::fclose(f);
}

}  // namespace

TEST_CASE(
    "on a full disk events wait in memory, overflow is counted as dropped, and writing "
    "resumes when space returns",
    "[store][writer][disk_full]") {
  if (::geteuid() != 0) {
    WARN("skipped: mounting a small tmpfs needs root");
    return;
  }
  TempStateDir dir;
  const auto mnt = dir.path() / "small";
  SmallTmpfs fs(mnt, "1M");
  if (!fs.mounted()) {
    WARN("skipped: mount(tmpfs) refused (no CAP_SYS_ADMIN in this environment)");
    return;
  }
  WriterOptions options;
  options.queue_capacity = 200;
  options.retry_initial = 5ms;
  options.retry_max = 20ms;
  {
    auto writer = open_writer(mnt, options);
    REQUIRE(writer->submit(make_event()));
    REQUIRE(eventually([&] { return writer->counters().committed == 1; }));
    fill_filesystem(mnt / "filler");
    int accepted = 0;
    for (int i = 0; i < 300; ++i) accepted += writer->submit(make_event()) ? 1 : 0;
    REQUIRE(eventually([&] { return writer->counters().write_errors >= 2; }));
    CHECK(accepted == 200);
    CHECK(writer->counters().committed == 1);
    CHECK(writer->counters().dropped == 100);
    CHECK(writer->counters().queued == 200);
    std::filesystem::remove(mnt / "filler");
    REQUIRE(eventually([&] { return writer->counters().committed == 201; }));
    CHECK(writer->counters().queued == 0);
    REQUIRE(writer->shutdown());
  }
  CHECK(count_rows(mnt) == 201);
  auto db = open_read_only(mnt);
  REQUIRE(db);
  auto check = sqlite::Statement::prepare(db->get(), "PRAGMA integrity_check");
  REQUIRE(check);
  sqlite::Statement::Run run(*check);
  REQUIRE(run.step() == SQLITE_ROW);
  CHECK(run.text(0) == "ok");
}

namespace {

// Fills a store with `n` events at `at`, marks the ids in [mark_from, mark_to] uploaded.
void seed(const std::filesystem::path& dir, int n, timefmt::TimePoint at, int mark_from,
          int mark_to) {
  {
    auto writer = open_writer(dir);
    for (int i = 0; i < n; ++i)
      REQUIRE(writer->submit(make_event(Severity::kHigh, "DLP.PII.IBAN", at)));
    REQUIRE(writer->shutdown());
  }
  auto box = Outbox::open(dir);
  REQUIRE(box);
  auto rows = (*box)->next_batch(static_cast<std::size_t>(n) + 1000);
  REQUIRE(rows);
  std::vector<std::string> uids;
  for (const auto& e : *rows) {
    if (e.id >= mark_from && e.id <= mark_to) uids.push_back(e.uid);
  }
  REQUIRE((*box)->mark_uploaded(uids));
}

std::vector<std::int64_t> remaining_ids(const std::filesystem::path& dir) {
  auto db = open_read_only(dir);
  REQUIRE(db);
  auto st = sqlite::Statement::prepare(db->get(), "SELECT id FROM events ORDER BY id");
  REQUIRE(st);
  sqlite::Statement::Run run(*st);
  std::vector<std::int64_t> ids;
  while (run.step() == SQLITE_ROW) ids.push_back(run.int64(0));
  return ids;
}

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> v;
  for (auto i = from; i <= to; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("past max_rows, uploaded rows are pruned before any not-uploaded row",
          "[store][retention]") {
  TempStateDir dir;
  // ids 1..10 not uploaded (older), 11..20 uploaded (newer).
  seed(dir.path(), 20, timefmt::now(), 11, 20);
  WriterOptions options;
  options.retention.max_rows = 15;
  {
    auto writer = open_writer(dir.path(), options);
    REQUIRE(eventually([&] { return writer->counters().pruned() == 5; }));
    REQUIRE(writer->shutdown());
    CHECK(writer->counters().pruned_uploaded == 5);
    CHECK(writer->counters().pruned_not_uploaded == 0);
  }
  auto expected = range(1, 10);
  auto newer = range(16, 20);
  expected.insert(expected.end(), newer.begin(), newer.end());
  CHECK(remaining_ids(dir.path()) == expected);

  options.retention.max_rows = 5;
  {
    auto writer = open_writer(dir.path(), options);
    REQUIRE(eventually([&] { return writer->counters().pruned() == 10; }));
    REQUIRE(writer->shutdown());
    CHECK(writer->counters().pruned_uploaded == 5);
    CHECK(writer->counters().pruned_not_uploaded == 5);
  }
  // The oldest not-uploaded rows went last, oldest first.
  CHECK(remaining_ids(dir.path()) == range(6, 10));
}

TEST_CASE("rows older than the retention period are pruned once uploaded, kept until then",
          "[store][retention]") {
  TempStateDir dir;
  seed(dir.path(), 10, timefmt::now() - std::chrono::hours(24 * 40), 1, 4);
  WriterOptions options;
  options.retention.retention = std::chrono::hours(24 * 30);
  options.retention.prune_batch = 3;  // several steps
  auto writer = open_writer(dir.path(), options);
  REQUIRE(eventually([&] { return writer->counters().pruned_uploaded == 4; }));
  // Fresh events are never pruned by age.
  REQUIRE(writer->submit(make_event()));
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().pruned_not_uploaded == 0);
  CHECK(remaining_ids(dir.path()) == range(5, 11));
}

TEST_CASE(
    "a standalone gateway (no uploads expected) prunes every row past the retention "
    "period",
    "[store][retention]") {
  TempStateDir dir;
  seed(dir.path(), 6, timefmt::now() - std::chrono::hours(24 * 40), 1, 2);
  WriterOptions options;
  options.retention.uploads_expected = false;
  auto writer = open_writer(dir.path(), options);
  REQUIRE(eventually([&] { return writer->counters().pruned() == 6; }));
  REQUIRE(writer->shutdown());
  CHECK(writer->counters().pruned_uploaded == 2);
  CHECK(writer->counters().pruned_not_uploaded == 4);
  CHECK(remaining_ids(dir.path()).empty());
}

TEST_CASE("a retention change applies without reopening the writer", "[store][retention]") {
  TempStateDir dir;
  WriterOptions options;
  options.retention.check_interval = 10ms;
  auto writer = open_writer(dir.path(), options);
  for (int i = 0; i < 20; ++i) REQUIRE(writer->submit(make_event()));
  REQUIRE(eventually([&] { return writer->counters().committed == 20; }));
  RetentionPolicy policy = options.retention;
  policy.max_rows = 8;
  policy.check_interval = 10ms;
  writer->set_retention(policy);
  REQUIRE(writer->submit(make_event()));  // wakes the writer
  REQUIRE(eventually([&] { return writer->counters().pruned_not_uploaded == 13; }));
  REQUIRE(writer->shutdown());
  CHECK(remaining_ids(dir.path()) == range(14, 21));
}

TEST_CASE("open refuses nonsensical writer options", "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 0;
  auto w = EventWriter::open(dir.path(), options);
  REQUIRE_FALSE(w);
  CHECK(w.error().code == "store.bad_options");
}

TEST_CASE("open refuses a missing state dir", "[store][writer]") {
  TempStateDir dir;
  auto w = EventWriter::open(dir.path() / "missing");
  REQUIRE_FALSE(w);
  CHECK(w.error().code == "store.state_dir");
}

TEST_CASE("the WAL stays bounded while a sustained burst never lets the writer pause",
          "[store][writer][checkpoint]") {
  TempStateDir dir;
  WriterOptions options;
  options.batch_size = 256;
  options.queue_capacity = 30'000;
  options.checkpoint_pages = 50;
  options.wal_limit_pages = 200;
  auto w = open_writer(dir.path(), options);
  constexpr std::uint64_t kEvents = 20'000;
  // Queued all at once, the events are written back to back: the checkpoint thread alone
  // never sees the pause it needs to let the WAL restart.
  for (std::uint64_t i = 0; i < kEvents; ++i) REQUIRE(w->submit(make_event()));
  REQUIRE(eventually([&] { return w->counters().committed == kEvents; }, 30s));
  auto wal = database_path(dir.path());
  wal += "-wal";
  // The WAL file keeps its largest size (it is not truncated when it restarts). Unbounded, it
  // would hold every page written: ~650 bytes per event, ~3,200 pages here. Bounded: the limit
  // plus the batch that crossed it (a 256-event batch touches well under 100 pages).
  const auto pages = std::filesystem::file_size(wal) / (4096 + 24);
  CHECK(pages <= 200 + 100);
  REQUIRE(w->shutdown());
  CHECK(count_rows(dir.path()) == static_cast<std::int64_t>(kEvents));
  auto db = open_read_only(dir.path());
  REQUIRE(db);
  auto check = sqlite::Statement::prepare(db->get(), "PRAGMA integrity_check");
  REQUIRE(check);
  sqlite::Statement::Run run(*check);
  REQUIRE(run.step() == SQLITE_ROW);
  CHECK(run.text(0) == "ok");
}

TEST_CASE("open refuses a WAL limit below the checkpoint threshold", "[store][writer]") {
  TempStateDir dir;
  WriterOptions options;
  options.checkpoint_pages = 1000;
  options.wal_limit_pages = 999;
  auto w = EventWriter::open(dir.path(), options);
  REQUIRE_FALSE(w);
  CHECK(w.error().code == "store.bad_options");
}

TEST_CASE("a stopped writer leaves its WAL file empty, so later readers have nothing to replay",
          "[store][writer][checkpoint]") {
  TempStateDir dir;
  auto w = open_writer(dir.path());
  for (int i = 0; i < 2000; ++i) REQUIRE(w->submit(make_event()));
  REQUIRE(w->shutdown());
  w.reset();
  auto wal = database_path(dir.path());
  wal += "-wal";
  auto shm = database_path(dir.path());
  shm += "-shm";
  // Both are kept, for readers who cannot create files in the state dir (docs/store.md).
  REQUIRE(std::filesystem::exists(wal));
  CHECK(std::filesystem::exists(shm));
  CHECK(std::filesystem::file_size(wal) == 0);
  CHECK(count_rows(dir.path()) == 2000);
}
