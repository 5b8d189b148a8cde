#include "store/rule_blob_store.hpp"

#include "store/database.hpp"
#include "store/sql.hpp"

namespace edgeward::store {

namespace {
constexpr std::string_view kBlobStateNames[] = {"received", "active", "superseded", "refused"};

Result<BlobState> parse_blob_state(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kBlobStateNames); ++i) {
    if (kBlobStateNames[i] == s) return static_cast<BlobState>(i);
  }
  return make_error("store.bad_row", "stored value of column 'state' is outside its value set");
}
}  // namespace

std::string_view to_string(BlobState s) {
  return kBlobStateNames[static_cast<std::size_t>(s)];
}

Result<std::unique_ptr<RuleBlobStore>> RuleBlobStore::open(const std::filesystem::path& state_dir) {
  auto db = open_read_write(state_dir);
  if (!db) return db.error();
  std::unique_ptr<RuleBlobStore> s(new RuleBlobStore());
  s->db_ = std::move(*db);
  struct Entry {
    sqlite::Statement* target;
    const char* text;
  };
  const Entry entries[] = {{&s->insert_, sql::kBlobInsert},
                           {&s->supersede_, sql::kBlobSupersedeActive},
                           {&s->activate_, sql::kBlobActivate},
                           {&s->active_, sql::kBlobActive},
                           {&s->list_, sql::kBlobList},
                           {&s->compiled_get_, sql::kCompiledGet},
                           {&s->compiled_put_, sql::kCompiledPut},
                           {&s->compiled_prune_, sql::kCompiledPruneOthers},
                           {&s->begin_, sql::kBegin},
                           {&s->commit_, sql::kCommit},
                           {&s->rollback_, sql::kRollback}};
  for (const auto& e : entries) {
    auto st = sqlite::Statement::prepare(s->db_.get(), e.text);
    if (!st) return st.error();
    *e.target = std::move(*st);
  }
  return s;
}

Status RuleBlobStore::exec_step(sqlite::Statement::Run& run) {
  const int rc = run.step();
  if (rc != SQLITE_DONE) return make_error("store.write_failed", sqlite::describe(db_.get(), rc));
  return ok_status();
}

Status RuleBlobStore::put(const RuleBlob& blob) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string received = timefmt::format_rfc3339(blob.received_at);
  // Activation goes through activate(), which keeps the one-active invariant.
  const BlobState state = blob.state == BlobState::kActive ? BlobState::kReceived : blob.state;
  sqlite::Statement::Run run(insert_);
  run.bind(1, blob.version);
  run.bind(2, std::string_view(blob.sha256));
  run.bind_blob(3, blob.envelope);
  run.bind(4, std::string_view(received));
  run.bind(5, to_string(state));
  return exec_step(run);
}

Status RuleBlobStore::activate(std::int64_t version, const std::string& sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  auto rollback = [&] {
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite::Statement::Run rb(rollback_);
      (void)rb.step();
    }
  };
  {
    sqlite::Statement::Run run(begin_);
    if (auto st = exec_step(run); !st) return st;
  }
  {
    sqlite::Statement::Run run(supersede_);
    if (auto st = exec_step(run); !st) {
      rollback();
      return st;
    }
  }
  {
    sqlite::Statement::Run run(activate_);
    run.bind(1, version);
    run.bind(2, std::string_view(sha256));
    if (auto st = exec_step(run); !st) {
      rollback();
      return st;
    }
    if (sqlite3_changes(db_.get()) != 1) {
      rollback();
      return make_error("store.blob_unknown",
                        "rule blob version " + std::to_string(version) + " was never stored");
    }
  }
  sqlite::Statement::Run run(commit_);
  if (auto st = exec_step(run); !st) {
    rollback();
    return st;
  }
  return ok_status();
}

Result<std::vector<RuleBlob>> RuleBlobStore::read_blobs(sqlite::Statement& stmt) {
  sqlite::Statement::Run run(stmt);
  std::vector<RuleBlob> out;
  for (;;) {
    const int rc = run.step();
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) {
      return make_error("store.query_failed", sqlite::describe(db_.get(), rc));
    }
    RuleBlob b;
    b.version = run.int64(0);
    b.sha256 = std::string(run.text(1));
    b.envelope = std::string(run.blob(2));
    auto when = timefmt::parse_rfc3339(run.text(3));
    auto state = parse_blob_state(run.text(4));
    if (!when || !state) {
      return make_error("store.bad_row", "stored rule blob row is malformed");
    }
    b.received_at = *when;
    b.state = *state;
    out.push_back(std::move(b));
  }
}

Result<std::optional<RuleBlob>> RuleBlobStore::active() {
  std::lock_guard<std::mutex> lock(mu_);
  auto blobs = read_blobs(active_);
  if (!blobs) return blobs.error();
  if (blobs->empty()) return std::optional<RuleBlob>();
  return std::optional<RuleBlob>(std::move(blobs->front()));
}

Result<std::vector<RuleBlob>> RuleBlobStore::list() {
  std::lock_guard<std::mutex> lock(mu_);
  return read_blobs(list_);
}

Result<std::optional<std::string>> RuleBlobStore::compiled(const CompiledKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement::Run run(compiled_get_);
  run.bind(1, std::string_view(key.blob_sha256));
  run.bind(2, std::string_view(key.hyperscan_version));
  run.bind(3, std::string_view(key.platform));
  run.bind(4, std::string_view(key.name));
  const int rc = run.step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) {
    return make_error("store.query_failed", sqlite::describe(db_.get(), rc));
  }
  return std::optional<std::string>(std::string(run.blob(0)));
}

Status RuleBlobStore::put_compiled(const CompiledKey& key, std::string_view serialized) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string now = timefmt::format_rfc3339(timefmt::now());
  sqlite::Statement::Run run(compiled_put_);
  run.bind(1, std::string_view(key.blob_sha256));
  run.bind(2, std::string_view(key.hyperscan_version));
  run.bind(3, std::string_view(key.platform));
  run.bind(4, std::string_view(key.name));
  run.bind_blob(5, serialized);
  run.bind(6, std::string_view(now));
  return exec_step(run);
}

Result<std::int64_t> RuleBlobStore::prune_compiled(const std::string& keep_blob_sha256) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite::Statement::Run run(compiled_prune_);
  run.bind(1, std::string_view(keep_blob_sha256));
  if (auto st = exec_step(run); !st) return st.error();
  return static_cast<std::int64_t>(sqlite3_changes(db_.get()));
}

}  // namespace edgeward::store
