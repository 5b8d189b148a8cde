#include "store/agent_state.hpp"

#include "core/time.hpp"
#include "store/database.hpp"
#include "store/sql.hpp"

namespace edgeward::store {

Result<std::unique_ptr<AgentState>> AgentState::open(const std::filesystem::path& state_dir) {
  auto db = open_read_write(state_dir);
  if (!db) return db.error();
  std::unique_ptr<AgentState> s(new AgentState());
  s->db_ = std::move(*db);
  for (auto [target, text] :
       {std::pair{&s->get_, sql::kStateGet}, std::pair{&s->put_, sql::kStatePut},
        std::pair{&s->delete_, sql::kStateDelete}}) {
    auto st = sqlite::Statement::prepare(s->db_.get(), text);
    if (!st) return st.error();
    *target = std::move(*st);
  }
  return s;
}

Result<std::optional<std::string>> AgentState::get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement::Run run(get_);
  run.bind(1, std::string_view(key));
  const int rc = run.step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return make_error("store.query_failed", sqlite::describe(db_.get(), rc));
  return std::optional<std::string>(std::string(run.text(0)));
}

Status AgentState::set(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string now = timefmt::format_rfc3339(timefmt::now());
  sqlite::Statement::Run run(put_);
  run.bind(1, std::string_view(key));
  run.bind(2, std::string_view(value));
  run.bind(3, std::string_view(now));
  if (const int rc = run.step(); rc != SQLITE_DONE) {
    return make_error("store.write_failed", sqlite::describe(db_.get(), rc));
  }
  return ok_status();
}

Status AgentState::erase(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement::Run run(delete_);
  run.bind(1, std::string_view(key));
  if (const int rc = run.step(); rc != SQLITE_DONE) {
    return make_error("store.write_failed", sqlite::describe(db_.get(), rc));
  }
  return ok_status();
}

}  // namespace edgeward::store
