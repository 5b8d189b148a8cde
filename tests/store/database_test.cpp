#include "store/database.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "store/sql.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using edgeward::store::testing::TempStateDir;

namespace {

// Sets user_version behind the store's back, as a newer or older edgeward would have left it.
void force_user_version(const std::filesystem::path& dir, int version) {
  auto db = sqlite::Connection::open(database_path(dir), sqlite::OpenMode::kReadWriteCreate);
  REQUIRE(db);
  REQUIRE(db->exec("PRAGMA user_version = " + std::to_string(version)));
}

// Builds a version-1 database as edgeward 1 left it (its migration only), with `rows` events.
void make_v1_database(const std::filesystem::path& dir, int rows) {
  auto db = sqlite::Connection::open(database_path(dir), sqlite::OpenMode::kReadWriteCreate);
  REQUIRE(db);
  REQUIRE(db->exec("PRAGMA journal_mode = WAL"));
  REQUIRE(db->exec(sql::kMigrations[0]));
  REQUIRE(db->exec("PRAGMA user_version = 1"));
  auto insert = sqlite::Statement::prepare(db->get(), sql::kInsertEvent);
  REQUIRE(insert);
  for (int i = 0; i < rows; ++i) {
    sqlite::Statement::Run run(*insert);
    const std::string uid = ids::event_uid();
    const std::string request = ids::request_id();
    const std::string at = "2026-11-23T01:02:03." + std::to_string(100 + i) + "Z";
    const std::string_view text[] = {"6f1c2a4e-0d7b-4c1e-9a63-2b8f1e0c5d17",
                                     "0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11",
                                     "request",
                                     "body",
                                     "POST",
                                     at,
                                     "DLP.PII.IBAN",
                                     i % 2 ? "high" : "low"};
    for (int p = 0; p < 8; ++p) run.bind(p + 1, text[p]);
    run.bind(9, std::int64_t{0});
    run.bind(10, std::string_view("pre-template"));
    run.bind(11, std::string_view(uid));
    run.bind(12, std::string_view(request));
    run.bind(13, std::string_view("block"));
    run.bind(14, std::string_view("0123456789abcdef"));
    run.bind(15, std::int64_t{3});
    run.bind(16, std::string_view("gpt-4o"));
    run.bind(17, std::string_view("openai"));
    run.bind_null(18);
    REQUIRE(run.step() == SQLITE_DONE);
  }
}

std::string integrity(sqlite::Connection& db) {
  auto st = sqlite::Statement::prepare(db.get(), "PRAGMA integrity_check");
  REQUIRE(st);
  sqlite::Statement::Run run(*st);
  REQUIRE(run.step() == SQLITE_ROW);
  return std::string(run.text(0));
}

std::set<std::string> index_names(sqlite::Connection& db) {
  auto st = sqlite::Statement::prepare(
      db.get(), "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events'");
  REQUIRE(st);
  sqlite::Statement::Run run(*st);
  std::set<std::string> out;
  while (run.step() == SQLITE_ROW) out.emplace(run.text(0));
  return out;
}

std::set<std::string> columns(sqlite::Connection& db, const char* table) {
  auto st = sqlite::Statement::prepare(db.get(), std::string("PRAGMA table_info(") + table + ")");
  REQUIRE(st);
  sqlite::Statement::Run run(*st);
  std::set<std::string> out;
  while (run.step() == SQLITE_ROW) out.emplace(run.text(1));
  return out;
}

}  // namespace

TEST_CASE("opening read-write creates schema version 2 in WAL mode", "[store][schema]") {
  TempStateDir dir;
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  CHECK(*schema_version(*db) == schema_version_supported());
  CHECK(schema_version_supported() == 2);
  auto mode = sqlite::Statement::prepare(db->get(), "PRAGMA journal_mode");
  REQUIRE(mode);
  sqlite::Statement::Run run(*mode);
  REQUIRE(run.step() == SQLITE_ROW);
  CHECK(run.text(0) == "wal");
}

TEST_CASE("reopening an up-to-date database migrates nothing and keeps its rows",
          "[store][schema]") {
  TempStateDir dir;
  {
    auto db = open_read_write(dir.path());
    REQUIRE(db);
    REQUIRE(db->exec("INSERT INTO agent_state VALUES ('k', 'v', '2026-01-01T00:00:00.000Z')"));
  }
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  CHECK(*db->query_int("SELECT count(*) FROM agent_state") == 1);
}

TEST_CASE("a version 1 database holding rows migrates to version 2 and keeps every row",
          "[store][schema][migration]") {
  TempStateDir dir;
  make_v1_database(dir.path(), 40);
  {
    auto v1 = sqlite::Connection::open(database_path(dir.path()), sqlite::OpenMode::kReadOnly);
    REQUIRE(v1);
    REQUIRE(index_names(*v1).count("events_severity") == 1);
  }
  // The CLI does not read a version it would have to guess about; the daemon migrates first.
  auto before = open_read_only(dir.path());
  REQUIRE_FALSE(before);
  CHECK(before.error().code == "store.older_schema");

  auto db = open_read_write(dir.path());
  REQUIRE(db);
  CHECK(*schema_version(*db) == 2);
  CHECK(*db->query_int("SELECT count(*) FROM events") == 40);
  CHECK(*db->query_int("SELECT count(*) FROM events WHERE severity = 'high'") == 20);
  CHECK(integrity(*db) == "ok");
  CHECK(index_names(*db) == std::set<std::string>{"sqlite_autoindex_events_1", "events_occurred_at",
                                                  "events_not_uploaded", "events_uploaded_age"});
  // Ids keep growing past the migrated rows, even past a deleted newest one (AUTOINCREMENT's
  // sequence survived), and the writer appends to the migrated table.
  REQUIRE(db->exec("DELETE FROM events WHERE id = 40"));
  db = Result<sqlite::Connection>(make_error("test.closed", "closed"));
  {
    auto writer = EventWriter::open(dir.path());
    REQUIRE(writer);
    REQUIRE((*writer)->submit(testing::make_event()));
    REQUIRE((*writer)->shutdown());
  }
  auto ro = open_read_only(dir.path());
  REQUIRE(ro);
  CHECK(*schema_version(*ro) == 2);
  CHECK(*ro->query_int("SELECT max(id) FROM events") == 41);
  CHECK(*ro->query_int("SELECT count(*) FROM events") == 40);
}

TEST_CASE("after migration the schema still refuses values outside each DESIGN §4 set",
          "[store][schema][migration]") {
  TempStateDir dir;
  make_v1_database(dir.path(), 1);
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  const std::string good =
      "INSERT INTO events (rule_id, scope, matched_in, request_method, occurred_at, reason_code, "
      "severity, retry, layer, uid, request_id, action, path_hash, rule_version, model, "
      "upstream) VALUES ('r', 'request', 'body', 'POST', 't', 'X.Y', 'high', 0, 'tool-call', ";
  const std::string tail = ", 'req', 'block', '0123456789abcdef', 1, '', '')";
  CHECK(db->exec(good + "'u1'" + tail));
  for (const auto& [from, to] :
       std::initializer_list<std::pair<std::string, std::string>>{{"'request'", "'requests'"},
                                                                  {"'body'", "'bodies'"},
                                                                  {"'high'", "'severe'"},
                                                                  {"'tool-call'", "'tool'"},
                                                                  {"0, 't", "2, 't"},
                                                                  {"'block'", "'drop'"}}) {
    std::string bad = good + "'u2'" + tail;
    bad.replace(bad.find(from), from.size(), to);
    CHECK_FALSE(db->exec(bad).ok());
  }
  CHECK(*db->query_int("SELECT count(*) FROM events") == 2);
}

TEST_CASE("the writer's INSERT checks each row without building temporary tables",
          "[store][schema][migration]") {
  // An `IN (list)` of more than two constants in a CHECK builds a temporary b-tree per row
  // (sql.hpp, kMigrationV2); the constraints must stay comparisons.
  TempStateDir dir;
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  auto plan = sqlite::Statement::prepare(db->get(), std::string("EXPLAIN ") + sql::kInsertEvent);
  REQUIRE(plan);
  sqlite::Statement::Run run(*plan);
  int ops = 0;
  while (run.step() == SQLITE_ROW) {
    ++ops;
    CHECK(run.text(1) != "OpenEphemeral");
  }
  CHECK(ops > 20);
}

TEST_CASE("a fresh database has the same indexes as a migrated one", "[store][schema][migration]") {
  TempStateDir dir;
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  CHECK(index_names(*db) == std::set<std::string>{"sqlite_autoindex_events_1", "events_occurred_at",
                                                  "events_not_uploaded", "events_uploaded_age"});
}

TEST_CASE("the events table has exactly the DESIGN §4 fields plus the uploaded flag",
          "[store][schema][leak]") {
  TempStateDir dir;
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  const std::set<std::string> expected = {
      "id",          "agent_id",    "rule_id",   "scope",        "matched_in", "request_method",
      "occurred_at", "reason_code", "severity",  "retry",        "layer",      "uid",
      "request_id",  "action",      "path_hash", "rule_version", "model",      "upstream",
      "session",     "uploaded"};
  CHECK(columns(*db, "events") == expected);
}

TEST_CASE("the other tables hold rule blobs, compiled databases and agent state",
          "[store][schema]") {
  TempStateDir dir;
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  CHECK(columns(*db, "rule_blobs") ==
        std::set<std::string>{"id", "version", "sha256", "envelope", "received_at", "state"});
  CHECK(columns(*db, "compiled_databases") == std::set<std::string>{"blob_sha256",
                                                                    "hyperscan_version", "platform",
                                                                    "name", "db", "created_at"});
  CHECK(columns(*db, "agent_state") == std::set<std::string>{"key", "value", "updated_at"});
}

TEST_CASE("the writer's INSERT binds exactly the event fields and nothing else",
          "[store][schema][leak]") {
  TempStateDir dir;
  auto db = open_read_write(dir.path());
  REQUIRE(db);
  auto st = sqlite::Statement::prepare(db->get(), sql::kInsertEvent);
  REQUIRE(st);
  // 18 = the 19 fields of DESIGN §4 minus `id`, which SQLite assigns.
  CHECK(sqlite3_bind_parameter_count(st->get()) == 18);
  const std::string text = sql::kInsertEvent;
  for (const char* col :
       {"agent_id", "rule_id", "scope", "matched_in", "request_method", "occurred_at",
        "reason_code", "severity", "retry", "layer", "uid", "request_id", "action", "path_hash",
        "rule_version", "model", "upstream", "session"}) {
    CHECK(text.find(col) != std::string::npos);
  }
}

TEST_CASE("a database of a newer schema is refused, read-write and read-only", "[store][schema]") {
  TempStateDir dir;
  { REQUIRE(open_read_write(dir.path())); }
  force_user_version(dir.path(), 99);
  auto rw = open_read_write(dir.path());
  REQUIRE_FALSE(rw);
  CHECK(rw.error().code == "store.newer_schema");
  CHECK(rw.error().message.find("schema version 99") != std::string::npos);
  auto ro = open_read_only(dir.path());
  REQUIRE_FALSE(ro);
  CHECK(ro.error().code == "store.newer_schema");
}

TEST_CASE("read-write open refuses a missing state dir", "[store][schema]") {
  TempStateDir dir;
  auto db = open_read_write(dir.path() / "nope");
  REQUIRE_FALSE(db);
  CHECK(db.error().code == "store.state_dir");
}

TEST_CASE("read-only open explains a missing state dir, a file, and a missing database",
          "[store][schema]") {
  TempStateDir dir;
  auto missing = open_read_only(dir.path() / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == "store.state_dir_missing");
  CHECK(missing.error().message.find("nope") != std::string::npos);

  const auto file = dir.path() / "file";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fclose(f);
  }
  auto not_dir = open_read_only(file);
  REQUIRE_FALSE(not_dir);
  CHECK(not_dir.error().code == "store.state_dir_not_dir");

  auto no_db = open_read_only(dir.path());
  REQUIRE_FALSE(no_db);
  CHECK(no_db.error().code == "store.no_database");
  // Read-only really is read-only: nothing was created.
  CHECK_FALSE(std::filesystem::exists(database_path(dir.path())));
}

TEST_CASE("read-only open refuses a file that is not an Edgeward database", "[store][schema]") {
  TempStateDir dir;
  {
    std::FILE* f = std::fopen(database_path(dir.path()).c_str(), "w");
    std::fputs("this is not sqlite, it is a text file long enough to have a header......", f);
    std::fclose(f);
  }
  auto db = open_read_only(dir.path());
  REQUIRE_FALSE(db);
  CHECK(db.error().code == "store.not_edgeward_db");
}

TEST_CASE("read-only open refuses a database with no Edgeward schema", "[store][schema]") {
  TempStateDir dir;
  { REQUIRE(open_read_write(dir.path())); }
  force_user_version(dir.path(), 0);
  auto db = open_read_only(dir.path());
  REQUIRE_FALSE(db);
  CHECK(db.error().code == "store.not_edgeward_db");
}

TEST_CASE("read-only open works while a writer holds the write lock", "[store][schema]") {
  TempStateDir dir;
  auto writer = open_read_write(dir.path());
  REQUIRE(writer);
  REQUIRE(writer->exec("BEGIN IMMEDIATE"));
  REQUIRE(writer->exec("INSERT INTO agent_state VALUES ('k', 'v', 'x')"));
  auto ro = open_read_only(dir.path());
  REQUIRE(ro);
  // The uncommitted row is invisible; the reader is not blocked.
  CHECK(*ro->query_int("SELECT count(*) FROM agent_state") == 0);
  REQUIRE(writer->exec("COMMIT"));
  CHECK(*ro->query_int("SELECT count(*) FROM agent_state") == 1);
  // And it cannot write.
  CHECK_FALSE(ro->exec("DELETE FROM agent_state").ok());
}
