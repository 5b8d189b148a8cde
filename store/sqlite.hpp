#pragma once
// Thin RAII over the SQLite C API: one owner per sqlite3* and per sqlite3_stmt*.
//
// Rules:
//  - A Connection closes its handle in its destructor (sqlite3_close_v2, which also copes with
//    statements still alive, though ours are always destroyed first: members are declared
//    after the connection that prepared them).
//  - A Statement is prepared once and reused. Every use goes through Statement::Run, a scope
//    that resets the statement and clears its bindings when it ends, so that no statement is
//    left mid-step holding a read transaction open (STYLE habit 13).
//  - Not thread-safe: a connection and its statements belong to one thread at a time.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::store::sqlite {

// "sqlite: <errmsg> (<extended code>)" for error messages.
std::string describe(sqlite3* db, int rc);

class Statement {
 public:
  Statement() = default;

  // Prepares `sql` (persistent: it will be stepped many times). Error "store.prepare_failed".
  static Result<Statement> prepare(sqlite3* db, std::string_view sql);

  bool valid() const { return stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_.get(); }

  // One execution: bind, step, read columns; reset + clear bindings on destruction.
  class Run {
   public:
    explicit Run(const Statement& s) : stmt_(s.get()) {}
    ~Run() {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // Parameters are 1-based. Text is bound SQLITE_STATIC: the caller keeps it alive until the
    // Run ends.
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    void bind(int i, std::string_view v) {
      sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_blob(int i, std::string_view v) {
      sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bind_null(int i) { sqlite3_bind_null(stmt_, i); }

    // SQLITE_ROW, SQLITE_DONE or an error code.
    int step() { return sqlite3_step(stmt_); }

    // Columns are 0-based; text views are valid until the next step() or the end of the Run.
    std::int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
    bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    std::string_view text(int c) const {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
      return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
               : std::string_view();
    }
    std::string_view blob(int c) const {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
      return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
               : std::string_view();
    }

   private:
    sqlite3_stmt* stmt_;
  };

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

enum class OpenMode : std::uint8_t {
  kReadWriteCreate,    // the daemon's connections
  kReadOnly,           // the CLI: never writes, never creates
  kReadOnlyImmutable,  // the CLI on a stopped daemon's DB in a directory it cannot write
};

class Connection {
 public:
  Connection() = default;

  // Opens `path`. Error "store.open_failed" (the message carries SQLite's reason).
  static Result<Connection> open(const std::filesystem::path& path, OpenMode mode);

  sqlite3* get() const { return db_.get(); }
  bool valid() const { return db_ != nullptr; }

  // Runs SQL text without results (pragmas, DDL, BEGIN/COMMIT). Error `code` with SQLite's
  // message.
  Status exec(std::string_view sql, const char* code = "store.sql_failed");

  // The single integer a pragma or query returns. Error "store.sql_failed".
  Result<std::int64_t> query_int(std::string_view sql);

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Close> db_;
};

}  // namespace edgeward::store::sqlite
