#include "store/sqlite.hpp"

#include <mutex>
#include <string>

namespace edgeward::store::sqlite {

std::string describe(sqlite3* db, int rc) {
  std::string out = "sqlite: ";
  // sqlite3_errmsg describes the most recent failure on `db`; sqlite3_errstr only knows the
  // code. Prefer the former when it matches the code we got.
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) {
    out += sqlite3_errmsg(db);
  } else {
    out += sqlite3_errstr(rc);
  }
  out += " (";
  out += std::to_string(rc);
  out += ")";
  return out;
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Statement s;
  s.stmt_.reset(raw);
  if (rc != SQLITE_OK || raw == nullptr) {
    return make_error("store.prepare_failed", describe(db, rc));
  }
  return s;
}

namespace {
// Process-wide SQLite settings, applied once before the first connection: memory statistics off
// (with them on, every allocation takes a global mutex; nothing here reads them).
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

Result<Connection> Connection::open(const std::filesystem::path& path, OpenMode mode) {
  configure_sqlite_once();
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  std::string name = path.string();
  switch (mode) {
    case OpenMode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case OpenMode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case OpenMode::kReadOnlyImmutable: {
      // A URI so that `immutable=1` can be given: SQLite then takes no locks and needs no -shm.
      // Only used when no -wal file exists (nothing un-checkpointed to miss).
      flags |= SQLITE_OPEN_READONLY;
      std::string uri = "file:";
      for (char c : name) {
        // Percent-encode the characters URI syntax gives meaning to.
        if (c == '%' || c == '?' || c == '#') {
          static constexpr char kHex[] = "0123456789ABCDEF";
          uri += '%';
          uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
          uri += kHex[static_cast<unsigned char>(c) & 0xF];
        } else {
          uri += c;
        }
      }
      uri += "?immutable=1";
      name = std::move(uri);
      break;
    }
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Connection c;
  c.db_.reset(raw);
  if (rc != SQLITE_OK) {
    return make_error("store.open_failed",
                      "cannot open " + path.string() + ": " + describe(raw, rc));
  }
  sqlite3_extended_result_codes(raw, 1);
  return c;
}

Status Connection::exec(std::string_view sql, const char* code) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = "sqlite: ";
    msg += err ? err : sqlite3_errstr(rc);
    msg += " (" + std::to_string(rc) + ")";
    sqlite3_free(err);
    return make_error(code, std::move(msg));
  }
  return ok_status();
}

Result<std::int64_t> Connection::query_int(std::string_view sql) {
  auto st = Statement::prepare(db_.get(), sql);
  if (!st) return st.error();
  Statement::Run run(*st);
  const int rc = run.step();
  if (rc != SQLITE_ROW) {
    return make_error("store.sql_failed", describe(db_.get(), rc));
  }
  return run.int64(0);
}

}  // namespace edgeward::store::sqlite
