#include "store/outbox.hpp"

#include "store/database.hpp"
#include "store/event_row.hpp"
#include "store/sql.hpp"

namespace edgeward::store {

Result<std::unique_ptr<Outbox>> Outbox::open(const std::filesystem::path& state_dir) {
  auto db = open_read_write(state_dir);
  if (!db) return db.error();
  std::unique_ptr<Outbox> box(new Outbox());
  box->db_ = std::move(*db);
  struct Entry {
    sqlite::Statement* target;
    const char* text;
  };
  const Entry entries[] = {
      {&box->next_, sql::kOutboxNext},       {&box->mark_, sql::kOutboxMarkUploaded},
      {&box->pending_, sql::kOutboxPending}, {&box->begin_, sql::kBegin},
      {&box->commit_, sql::kCommit},         {&box->rollback_, sql::kRollback}};
  for (const auto& e : entries) {
    auto st = sqlite::Statement::prepare(box->db_.get(), e.text);
    if (!st) return st.error();
    *e.target = std::move(*st);
  }
  return box;
}

Result<std::vector<Event>> Outbox::next_batch(std::size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement::Run run(next_);
  run.bind(1, static_cast<std::int64_t>(limit));
  std::vector<Event> out;
  out.reserve(limit);
  for (;;) {
    const int rc = run.step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) {
      return make_error("store.query_failed", sqlite::describe(db_.get(), rc));
    }
    auto e = decode_event_row(run);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
}

Result<std::size_t> Outbox::mark_uploaded(const std::vector<std::string>& uids) {
  std::lock_guard<std::mutex> lock(mu_);
  auto fail = [&](int rc) -> Error {
    Error err = make_error("store.write_failed", sqlite::describe(db_.get(), rc));
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite::Statement::Run rb(rollback_);
      (void)rb.step();
    }
    return err;
  };
  {
    sqlite::Statement::Run run(begin_);
    if (const int rc = run.step(); rc != SQLITE_DONE) return fail(rc);
  }
  std::size_t changed = 0;
  for (const auto& uid : uids) {
    sqlite::Statement::Run run(mark_);
    run.bind(1, std::string_view(uid));
    if (const int rc = run.step(); rc != SQLITE_DONE) return fail(rc);
    changed += static_cast<std::size_t>(sqlite3_changes(db_.get()));
  }
  {
    sqlite::Statement::Run run(commit_);
    if (const int rc = run.step(); rc != SQLITE_DONE) return fail(rc);
  }
  return changed;
}

Result<std::int64_t> Outbox::pending() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement::Run run(pending_);
  const int rc = run.step();
  if (rc != SQLITE_ROW) return make_error("store.query_failed", sqlite::describe(db_.get(), rc));
  return run.int64(0);
}

}  // namespace edgeward::store
