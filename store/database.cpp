#include "store/database.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "store/sql.hpp"

namespace edgeward::store {

namespace fs = std::filesystem;

int schema_version_supported() {
  return sql::kSchemaVersion;
}

fs::path database_path(const fs::path& state_dir) {
  return state_dir / "edgeward.db";
}

Result<int> schema_version(sqlite::Connection& db) {
  auto v = db.query_int(sql::kUserVersion);
  if (!v) return v.error();
  return static_cast<int>(*v);
}

namespace {

Error newer_schema_error(const fs::path& path, int found) {
  return make_error("store.newer_schema",
                    path.string() + " has schema version " + std::to_string(found) +
                        " but this edgeward understands up to " +
                        std::to_string(sql::kSchemaVersion) +
                        "; it was written by a newer edgeward: upgrade this one");
}

Status migrate(sqlite::Connection& db, const fs::path& path) {
  // The common case (already current) needs no write lock, so that opening never waits for
  // another connection's write transaction.
  if (auto v = schema_version(db); v && *v == sql::kSchemaVersion) return ok_status();
  // Migration 2 edits a CHECK constraint in sqlite_schema (sql.hpp, kMigrationV2), which SQLite
  // refuses in "defensive" mode; a SQLite built or configured with it on would otherwise fail
  // the migration and the daemon would not start.
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 0, nullptr);
  for (;;) {
    // Each step re-reads the version inside its write transaction: another process may have
    // migrated between our read and our BEGIN.
    if (auto st = db.exec(sql::kBegin, "store.migration_failed"); !st) return st;
    auto version = schema_version(db);
    if (!version) {
      (void)db.exec(sql::kRollback);
      return make_error("store.migration_failed", version.error().message);
    }
    if (*version > sql::kSchemaVersion) {
      (void)db.exec(sql::kRollback);
      return newer_schema_error(path, *version);
    }
    if (*version == sql::kSchemaVersion) {
      return db.exec(sql::kCommit, "store.migration_failed");
    }
    if (auto st = db.exec(sql::kMigrations[*version], "store.migration_failed"); !st) {
      (void)db.exec(sql::kRollback);
      return st;
    }
    const std::string bump = "PRAGMA user_version = " + std::to_string(*version + 1);
    if (auto st = db.exec(bump, "store.migration_failed"); !st) {
      (void)db.exec(sql::kRollback);
      return st;
    }
    if (auto st = db.exec(sql::kCommit, "store.migration_failed"); !st) {
      (void)db.exec(sql::kRollback);
      return st;
    }
  }
}

}  // namespace

Result<sqlite::Connection> open_read_write(const fs::path& state_dir, Synchronous synchronous,
                                           int busy_timeout_ms) {
  std::error_code ec;
  if (!fs::is_directory(state_dir, ec)) {
    return make_error("store.state_dir", "state directory " + state_dir.string() +
                                             " does not exist or is not a "
                                             "directory");
  }
  const fs::path path = database_path(state_dir);
  auto db = sqlite::Connection::open(path, sqlite::OpenMode::kReadWriteCreate);
  if (!db) return db.error();
  sqlite3_busy_timeout(db->get(), busy_timeout_ms);
  if (auto st = db->exec(sql::kPragmasReadWrite, "store.open_failed"); !st) return st.error();
  if (auto st = db->exec(
          synchronous == Synchronous::kFull ? sql::kSynchronousFull : sql::kSynchronousNormal,
          "store.open_failed");
      !st) {
    return st.error();
  }
  // Keep the -wal and -shm files when the last connection closes, so that a CLI user who cannot
  // create files in the state dir can still open the database read-only while the daemon is
  // stopped (SQLite needs an existing -shm for that).
  int persist = 1;
  sqlite3_file_control(db->get(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  if (auto st = migrate(*db, path); !st) return st.error();
  return db;
}

Result<sqlite::Connection> open_read_only(const fs::path& state_dir) {
  std::error_code ec;
  const auto dir_status = fs::status(state_dir, ec);
  if (!fs::exists(dir_status)) {
    return make_error("store.state_dir_missing",
                      "state directory " + state_dir.string() +
                          " does not exist (is edgewardd installed? use --state-dir DIR)");
  }
  if (!fs::is_directory(dir_status)) {
    return make_error("store.state_dir_not_dir",
                      state_dir.string() + " is not a directory (--state-dir DIR)");
  }
  const fs::path path = database_path(state_dir);
  if (!fs::exists(path, ec)) {
    return make_error("store.no_database",
                      "no event database at " + path.string() +
                          " (edgewardd has not run with this state directory yet)");
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return make_error("store.permission_denied",
                      "cannot read " + path.string() + ": " + std::strerror(errno) +
                          " (run as root or as the user edgewardd runs as)");
  }
  fs::path wal = path;
  wal += "-wal";
  fs::path shm = path;
  shm += "-shm";
  const bool dir_writable = ::access(state_dir.c_str(), W_OK) == 0;
  const bool has_wal = fs::exists(wal, ec);
  const bool has_shm = fs::exists(shm, ec);
  // SQLite reads a WAL database read-only when it can create the -shm, or when one exists (it
  // falls back to private memory if it cannot write it). With neither, and no WAL content to
  // read, the main file alone is the whole database: open it immutable.
  const bool immutable = !dir_writable && !has_shm && !has_wal;
  if (!dir_writable && !has_shm && has_wal) {
    return make_error("store.permission_denied",
                      "cannot open " + path.string() + " read-only: its -shm file is missing and " +
                          state_dir.string() +
                          " is not writable by this user (run as root or as the user edgewardd "
                          "runs as)");
  }
  auto db = sqlite::Connection::open(
      path, immutable ? sqlite::OpenMode::kReadOnlyImmutable : sqlite::OpenMode::kReadOnly);
  if (!db) return db.error();
  // The daemon's writer holds its write lock briefly per batch; readers in WAL mode do not wait
  // for it, but a checkpoint-in-progress or recovery can make a reader retry.
  sqlite3_busy_timeout(db->get(), 2000);
  auto version = schema_version(*db);
  if (!version) {
    const auto& e = version.error();
    if (e.message.find("not a database") != std::string::npos) {
      return make_error("store.not_edgeward_db", path.string() + " is not a SQLite database");
    }
    return make_error("store.open_failed", "cannot read " + path.string() + ": " + e.message);
  }
  if (*version > sql::kSchemaVersion) return newer_schema_error(path, *version);
  if (*version < 1) {
    return make_error("store.not_edgeward_db",
                      path.string() + " has no Edgeward schema (user_version 0)");
  }
  if (*version < sql::kSchemaVersion) {
    // Older schema: the daemon migrates it on its next start; reading columns it lacks would
    // fail in confusing ways.
    return make_error("store.older_schema", path.string() + " has schema version " +
                                                std::to_string(*version) +
                                                "; start edgewardd once to migrate it to version " +
                                                std::to_string(sql::kSchemaVersion));
  }
  return db;
}

}  // namespace edgeward::store
