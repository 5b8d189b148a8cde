#pragma once
// Opening <state_dir>/edgeward.db: read-write (with migrations) for the daemon, read-only for
// the CLI.
//
// Rules:
//  - The schema version lives in `PRAGMA user_version`. A read-write open migrates an older
//    database forward, one migration per transaction (BEGIN IMMEDIATE, so two processes opening
//    at once cannot both migrate). A database whose version is newer than this build knows is
//    refused ("store.newer_schema"): an old binary must not write into a newer layout.
//  - A read-only open never creates or migrates anything; it refuses missing and newer databases
//    with errors that say what to do.
//  - Called on whatever thread will own the connection.

#include <filesystem>

#include "core/result.hpp"
#include "store/event_writer.hpp"
#include "store/sqlite.hpp"

namespace edgeward::store {

// The schema version this build writes and understands.
int schema_version_supported();

// <state_dir>/edgeward.db
std::filesystem::path database_path(const std::filesystem::path& state_dir);

// Read-write connection with WAL and the given `synchronous`, migrated to the current schema,
// with a busy timeout of `busy_timeout_ms`. Errors: "store.state_dir" (state_dir missing or not
// a directory), "store.open_failed", "store.newer_schema", "store.migration_failed".
Result<sqlite::Connection> open_read_write(const std::filesystem::path& state_dir,
                                           Synchronous synchronous = Synchronous::kFull,
                                           int busy_timeout_ms = 5000);

// Read-only connection for the CLI. Works while the daemon writes (WAL readers) and when it is
// stopped, including when the state dir is not writable by the caller (SQLite falls back to
// private shared memory when the -shm file is read-only; with no -wal file at all the database
// is opened immutable). Errors, each with a message that names the path:
// "store.state_dir_missing", "store.state_dir_not_dir", "store.no_database",
// "store.permission_denied", "store.open_failed", "store.not_edgeward_db" (no schema version),
// "store.newer_schema", "store.older_schema" (the daemon migrates it on its next start).
Result<sqlite::Connection> open_read_only(const std::filesystem::path& state_dir);

// PRAGMA user_version of an open connection. Error "store.sql_failed".
Result<int> schema_version(sqlite::Connection& db);

}  // namespace edgeward::store
