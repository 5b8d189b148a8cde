// SqliteEventWriter: the EventWriter of store/event_writer.hpp.
//
// Writer thread state machine (one thread, owns the connection and every statement):
//
//   Idle ──(first event | retention tick | shutdown)──▶ Gathering ──(batch_size events |
//   flush_interval since the first | shutdown)──▶ Writing ──ok──▶ Pruning (one small step) ─▶ Idle
//                                                      │
//                                                      └─fail──▶ Backoff ──(retry_* pause)──▶
//                                                      Writing
//
// In Backoff the failed events stay in `backlog` (memory) and new ones keep arriving in
// `pending_`; the bound on both together is WriterOptions::queue_capacity, enforced in submit()
// through the `queued_` gauge. Shutdown: Writing until everything is committed, or until
// shutdown_timeout passes while writes keep failing, then the rest is counted as dropped.
//
// After every commit (Writing, Pruning) the writer hands the WAL size to its WalCheckpointer,
// which copies the WAL back on its own thread (store/wal_checkpointer.hpp).

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "store/database.hpp"
#include "store/event_writer.hpp"
#include "store/sql.hpp"
#include "store/sqlite.hpp"
#include "store/wal_checkpointer.hpp"

namespace edgeward::store {

namespace {

using Clock = std::chrono::steady_clock;

// Events per multi-row INSERT: amortises the statement overhead (step, reset, the
// AUTOINCREMENT sequence update) over many rows; 32 x 18 parameters stays far below SQLite's
// variable limit.
constexpr std::size_t kRowsPerInsert = 32;

// "YYYY-MM-DDTHH:MM:SS.mmmZ" into a caller's buffer: the same text as
// timefmt::format_rfc3339, without a heap allocation per event on the writer's hot path.
std::string_view format_occurred_at(timefmt::TimePoint t, char (&buf)[32]) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  const int n = std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
      static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return std::string_view(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

// One event as the writer binds it, built by submit() on the producer's thread: the text
// fields (occurred_at already formatted) in one buffer, the value-set fields as enums. The
// writer thread then only binds and steps: no formatting, and one heap block to free per event
// instead of one per string field (cross-thread frees showed in its profile). It is also about
// a third of an Event's size while queued.
class QueuedEvent {
 public:
  // Text fields, in buffer order.
  enum Text : std::uint8_t {
    kAgentId,
    kRuleId,
    kMethod,
    kOccurredAt,
    kReasonCode,
    kUid,
    kRequestId,
    kPathHash,
    kModel,
    kUpstream,
    kSession,
    kTextCount
  };

  explicit QueuedEvent(const Event& e)
      : scope_(e.scope),
        matched_in_(e.matched_in),
        severity_(e.severity),
        layer_(e.layer),
        action_(e.action),
        retry_(e.retry),
        has_agent_id_(e.agent_id.has_value()),
        has_session_(e.session.has_value()),
        rule_version_(e.rule_version) {
    char time[32];
    const std::string_view parts[kTextCount] = {
        e.agent_id ? std::string_view(*e.agent_id) : std::string_view(),
        e.rule_id,
        e.request_method,
        format_occurred_at(e.occurred_at, time),
        e.reason_code,
        e.uid,
        e.request_id,
        e.path_hash,
        e.model,
        e.upstream,
        e.session ? std::string_view(*e.session) : std::string_view()};
    std::size_t total = 0;
    for (const auto& p : parts) total += p.size();
    text_.reserve(total);
    for (int i = 0; i < kTextCount; ++i) {
      end_[i] = static_cast<std::uint32_t>(text_.size() + parts[i].size());
      text_.append(parts[i]);
    }
  }

  std::string_view text(Text t) const {
    const std::uint32_t begin = t == 0 ? 0 : end_[t - 1];
    return std::string_view(text_).substr(begin, end_[t] - begin);
  }

  Scope scope_;
  MatchedIn matched_in_;
  Severity severity_;
  Layer layer_;
  Action action_;
  bool retry_;
  bool has_agent_id_;
  bool has_session_;
  std::int64_t rule_version_;

 private:
  std::string text_;
  std::uint32_t end_[kTextCount];  // end offset of each field in text_
};

struct WriterStatements {
  sqlite::Statement insert, insert_many, begin, commit, rollback;
  sqlite::Statement prune_uploaded_older, prune_not_uploaded_older;
  sqlite::Statement prune_oldest_uploaded, prune_oldest_not_uploaded;

  static Result<WriterStatements> prepare(sqlite3* db) {
    WriterStatements s;
    struct Entry {
      sqlite::Statement* target;
      const char* text;
    };
    const Entry entries[] = {
        {&s.insert, sql::kInsertEvent},
        {&s.begin, sql::kBegin},
        {&s.commit, sql::kCommit},
        {&s.rollback, sql::kRollback},
        {&s.prune_uploaded_older, sql::kPruneUploadedOlderThan},
        {&s.prune_not_uploaded_older, sql::kPruneNotUploadedOlderThan},
        {&s.prune_oldest_uploaded, sql::kPruneOldestUploaded},
        {&s.prune_oldest_not_uploaded, sql::kPruneOldestNotUploaded},
    };
    for (const auto& e : entries) {
      auto st = sqlite::Statement::prepare(db, e.text);
      if (!st) return st.error();
      *e.target = std::move(*st);
    }
    auto many = sqlite::Statement::prepare(db, sql::insert_events_sql(kRowsPerInsert));
    if (!many) return many.error();
    s.insert_many = std::move(*many);
    return s;
  }
};

bool is_constraint(int rc) {
  return (rc & 0xFF) == SQLITE_CONSTRAINT;
}

class SqliteEventWriter final : public EventWriter {
 public:
  SqliteEventWriter(sqlite::Connection db, WriterStatements statements,
                    sqlite::Connection checkpoint_db, const WriterOptions& options,
                    std::int64_t row_count)
      : options_(options),
        db_(std::move(db)),
        stmt_(std::move(statements)),
        checkpointer_(db_.get(), std::move(checkpoint_db),
                      {options.checkpoint_pages, options.wal_limit_pages}),
        retention_(options.retention),
        row_count_(row_count) {
    pending_.reserve(options_.batch_size);
    thread_ = std::thread([this] {
      // Named so that `top -H` and profilers show which thread is the store's.
      pthread_setname_np(pthread_self(), "edgeward-store");
      run();
    });
  }

  ~SqliteEventWriter() override { (void)shutdown(); }

  bool submit(Event&& event) override {
    if (!validate(event)) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // Reserve a place under the memory bound before taking the lock: `queued_` counts every
    // event accepted and not yet committed or dropped, including those the writer is retrying.
    if (queued_.fetch_add(1, std::memory_order_relaxed) >= options_.queue_capacity) {
      queued_.fetch_sub(1, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // Packed before taking the lock, on the caller's thread (see QueuedEvent).
    QueuedEvent queued(event);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        queued_.fetch_sub(1, std::memory_order_relaxed);
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (pending_.empty()) first_pending_ = Clock::now();
      pending_.push_back(std::move(queued));
      // Wake the writer only on the transitions it waits for: first event, full batch.
      wake = pending_.size() == 1 || pending_.size() == options_.batch_size;
    }
    submitted_.fetch_add(1, std::memory_order_relaxed);
    if (wake) cv_.notify_one();
    return true;
  }

  WriterCounters counters() const override {
    WriterCounters c;
    c.submitted = submitted_.load(std::memory_order_relaxed);
    c.committed = committed_.load(std::memory_order_relaxed);
    c.dropped = dropped_.load(std::memory_order_relaxed);
    c.rejected = rejected_.load(std::memory_order_relaxed);
    c.queued = queued_.load(std::memory_order_relaxed);
    c.batches = batches_.load(std::memory_order_relaxed);
    c.write_errors = write_errors_.load(std::memory_order_relaxed);
    c.pruned_uploaded = pruned_uploaded_.load(std::memory_order_relaxed);
    c.pruned_not_uploaded = pruned_not_uploaded_.load(std::memory_order_relaxed);
    return c;
  }

  void set_retention(const RetentionPolicy& policy) override {
    std::lock_guard<std::mutex> lock(mu_);
    retention_ = policy;
  }

  Status shutdown() override {
    std::lock_guard<std::mutex> once(shutdown_mu_);
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
        shutdown_deadline_ = Clock::now() + options_.shutdown_timeout;
      }
      cv_.notify_all();
      thread_.join();
    }
    checkpointer_.stop();
    if (gave_up_ > 0) {
      return make_error("store.shutdown_incomplete",
                        std::to_string(gave_up_) +
                            " events could not be written before the shutdown timeout and were "
                            "dropped");
    }
    return ok_status();
  }

 private:
  // The writer thread.
  void run() {
    std::vector<QueuedEvent> backlog;
    backlog.reserve(options_.batch_size);
    auto backoff = std::chrono::milliseconds(0);
    auto next_retention = Clock::now();  // prune once at start
    std::int64_t inserted_since_prune = 0;
    for (;;) {
      bool stop = false;
      RetentionPolicy policy;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (backlog.empty()) {
          cv_.wait_until(lock, next_retention, [&] { return !pending_.empty() || stopping_; });
          if (!pending_.empty() && !stopping_ && pending_.size() < options_.batch_size) {
            cv_.wait_until(lock, first_pending_ + options_.flush_interval,
                           [&] { return pending_.size() >= options_.batch_size || stopping_; });
          }
        } else if (!stopping_) {
          cv_.wait_for(lock, backoff, [&] { return stopping_; });
        } else {
          // Shutting down with a failing disk: keep retrying until the deadline, still paced.
          lock.unlock();
          std::this_thread::sleep_for(std::min<Clock::duration>(
              backoff,
              std::max<Clock::duration>(Clock::duration(0), shutdown_deadline_ - Clock::now())));
          lock.lock();
        }
        if (backlog.empty()) {
          backlog.swap(pending_);
        } else {
          std::move(pending_.begin(), pending_.end(), std::back_inserter(backlog));
          pending_.clear();
        }
        stop = stopping_;
        policy = retention_;
      }

      std::size_t done = 0;
      bool failed = false;
      while (done < backlog.size()) {
        const std::size_t n = std::min(options_.batch_size, backlog.size() - done);
        if (!write_batch(backlog, done, done + n)) {
          failed = true;
          break;
        }
        done += n;
        inserted_since_prune += static_cast<std::int64_t>(n);
        checkpointer_.after_commit();
      }
      backlog.erase(backlog.begin(), backlog.begin() + static_cast<std::ptrdiff_t>(done));

      if (failed) {
        write_errors_.fetch_add(1, std::memory_order_relaxed);
        backoff = backoff.count() == 0 ? options_.retry_initial
                                       : std::min(backoff * 2, options_.retry_max);
        if (stop && Clock::now() >= shutdown_deadline_) {
          give_up(backlog);
          return;
        }
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      if (stop) {
        std::lock_guard<std::mutex> lock(mu_);
        if (pending_.empty()) return;
        continue;
      }
      const auto now = Clock::now();
      const bool more = prune_step(policy, now >= next_retention, inserted_since_prune);
      checkpointer_.after_commit();
      inserted_since_prune = 0;
      if (now >= next_retention) {
        // A full prune batch means more may be waiting: come back soon rather than in a second.
        next_retention = more ? now + options_.flush_interval : now + policy.check_interval;
      }
    }
  }

  void give_up(std::vector<QueuedEvent>& backlog) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::uint64_t n = backlog.size() + pending_.size();
    backlog.clear();
    pending_.clear();
    gave_up_ = n;
    dropped_.fetch_add(n, std::memory_order_relaxed);
    queued_.fetch_sub(n, std::memory_order_relaxed);
  }

  void rollback_if_open() {
    if (sqlite3_get_autocommit(db_.get()) == 0) {
      sqlite::Statement::Run run(stmt_.rollback);
      (void)run.step();
    }
  }

  // One transaction with events [begin, end). False when it was rolled back (the events stay
  // in the backlog). An event the schema refuses (a duplicate uid) is skipped and counted as
  // rejected rather than failing the batch forever.
  bool write_batch(const std::vector<QueuedEvent>& events, std::size_t begin, std::size_t end) {
    {
      sqlite::Statement::Run run(stmt_.begin);
      if (run.step() != SQLITE_DONE) return false;
    }
    std::uint64_t skipped = 0;
    // One row at a time; a row the schema refuses is skipped.
    auto insert_singly = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        const int rc = insert_rows(stmt_.insert, events, i, 1);
        if (rc == SQLITE_DONE) continue;
        if (!is_constraint(rc)) return false;
        ++skipped;
      }
      return true;
    };
    std::size_t i = begin;
    for (; end - i >= kRowsPerInsert; i += kRowsPerInsert) {
      const int rc = insert_rows(stmt_.insert_many, events, i, kRowsPerInsert);
      if (rc == SQLITE_DONE) continue;
      // A refused row aborts only this statement's rows (the transaction stays): redo the
      // chunk row by row to keep the good ones.
      if (is_constraint(rc) && insert_singly(i, i + kRowsPerInsert)) continue;
      rollback_if_open();
      return false;
    }
    if (!insert_singly(i, end)) {
      rollback_if_open();
      return false;
    }
    {
      sqlite::Statement::Run run(stmt_.commit);
      if (run.step() != SQLITE_DONE) {
        rollback_if_open();
        return false;
      }
    }
    const std::uint64_t n = end - begin;
    committed_.fetch_add(n - skipped, std::memory_order_relaxed);
    rejected_.fetch_add(skipped, std::memory_order_relaxed);
    queued_.fetch_sub(n, std::memory_order_relaxed);
    batches_.fetch_add(1, std::memory_order_relaxed);
    row_count_ += static_cast<std::int64_t>(n - skipped);
    return true;
  }

  // Binds events [first, first + rows) into `stmt` (18 parameters per row, in the column order
  // of sql::kInsertEvent: exactly the DESIGN §4 fields, nothing else) and steps it once.
  int insert_rows(const sqlite::Statement& stmt, const std::vector<QueuedEvent>& events,
                  std::size_t first, std::size_t rows) {
    using T = QueuedEvent;
    sqlite::Statement::Run run(stmt);
    for (std::size_t r = 0; r < rows; ++r) {
      const QueuedEvent& e = events[first + r];
      const int b = static_cast<int>(r) * sql::kInsertEventParams;
      if (e.has_agent_id_) {
        run.bind(b + 1, e.text(T::kAgentId));
      } else {
        run.bind_null(b + 1);
      }
      run.bind(b + 2, e.text(T::kRuleId));
      run.bind(b + 3, to_string(e.scope_));
      run.bind(b + 4, to_string(e.matched_in_));
      run.bind(b + 5, e.text(T::kMethod));
      run.bind(b + 6, e.text(T::kOccurredAt));
      run.bind(b + 7, e.text(T::kReasonCode));
      run.bind(b + 8, to_string(e.severity_));
      run.bind(b + 9, std::int64_t{e.retry_ ? 1 : 0});
      run.bind(b + 10, to_string(e.layer_));
      run.bind(b + 11, e.text(T::kUid));
      run.bind(b + 12, e.text(T::kRequestId));
      run.bind(b + 13, to_string(e.action_));
      run.bind(b + 14, e.text(T::kPathHash));
      run.bind(b + 15, e.rule_version_);
      run.bind(b + 16, e.text(T::kModel));
      run.bind(b + 17, e.text(T::kUpstream));
      if (e.has_session_) {
        run.bind(b + 18, e.text(T::kSession));
      } else {
        run.bind_null(b + 18);
      }
    }
    return run.step();
  }

  // Runs one DELETE of at most `limit` rows; returns the rows deleted (0 on failure: retention
  // simply tries again at its next tick).
  std::int64_t prune(sqlite::Statement& stmt, const std::string* cutoff, std::int64_t limit) {
    sqlite::Statement::Run run(stmt);
    int i = 1;
    if (cutoff) run.bind(i++, std::string_view(*cutoff));
    run.bind(i, limit);
    if (run.step() != SQLITE_DONE) return 0;
    const std::int64_t n = sqlite3_changes64(db_.get());
    row_count_ -= n;
    return n;
  }

  // One retention step: past max_rows, delete the excess (uploaded rows first, then the oldest
  // not-uploaded ones), keeping pace with what was just inserted; when the age check is due,
  // delete one batch of rows older than the retention period. Returns true when a statement
  // deleted a full batch (more work may remain).
  bool prune_step(const RetentionPolicy& policy, bool age_due, std::int64_t just_inserted) {
    bool full = false;
    if (row_count_ > policy.max_rows) {
      const std::int64_t excess = row_count_ - policy.max_rows;
      std::int64_t limit = std::min(excess, std::max(policy.prune_batch, just_inserted));
      std::int64_t n = prune(stmt_.prune_oldest_uploaded, nullptr, limit);
      pruned_uploaded_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      limit -= n;
      if (limit > 0) {
        n = prune(stmt_.prune_oldest_not_uploaded, nullptr, limit);
        pruned_not_uploaded_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      }
      full = row_count_ > policy.max_rows;
    }
    if (age_due) {
      const std::string cutoff = timefmt::format_rfc3339(
          timefmt::now() - std::chrono::duration_cast<std::chrono::milliseconds>(policy.retention));
      std::int64_t n = prune(stmt_.prune_uploaded_older, &cutoff, policy.prune_batch);
      pruned_uploaded_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      full = full || n == policy.prune_batch;
      if (!policy.uploads_expected) {
        n = prune(stmt_.prune_not_uploaded_older, &cutoff, policy.prune_batch);
        pruned_not_uploaded_.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
        full = full || n == policy.prune_batch;
      }
    }
    return full;
  }

  const WriterOptions options_;
  sqlite::Connection db_;  // before the statements: destroyed after them
  WriterStatements stmt_;
  WalCheckpointer checkpointer_;  // after db_: stopped and destroyed before it closes

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<QueuedEvent> pending_;     // guarded by mu_
  Clock::time_point first_pending_;      // guarded by mu_: when pending_ became non-empty
  bool stopping_ = false;                // guarded by mu_
  Clock::time_point shutdown_deadline_;  // guarded by mu_
  RetentionPolicy retention_;            // guarded by mu_

  std::int64_t row_count_;     // writer thread only
  std::uint64_t gave_up_ = 0;  // written by the writer thread before it exits; read after join

  std::atomic<std::uint64_t> submitted_{0}, committed_{0}, dropped_{0}, rejected_{0}, queued_{0},
      batches_{0}, write_errors_{0}, pruned_uploaded_{0}, pruned_not_uploaded_{0};

  std::mutex shutdown_mu_;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace

Result<std::unique_ptr<EventWriter>> EventWriter::open(const std::filesystem::path& state_dir,
                                                       const WriterOptions& options) {
  if (options.queue_capacity == 0 || options.batch_size == 0 || options.retention.max_rows < 0 ||
      options.retention.prune_batch <= 0 || options.flush_interval.count() < 0 ||
      options.retry_initial.count() <= 0 || options.retry_max < options.retry_initial ||
      options.checkpoint_pages <= 0 || options.wal_limit_pages < options.checkpoint_pages) {
    return make_error("store.bad_options",
                      "writer options: queue_capacity, batch_size, prune_batch and retry_initial "
                      "must be positive, max_rows non-negative, retry_max >= retry_initial, "
                      "checkpoint_pages positive, wal_limit_pages >= checkpoint_pages");
  }
  // A short busy timeout: the writer must come back to its loop (and its retry/backoff
  // accounting) rather than sit inside SQLite while another process holds the lock.
  auto db = open_read_write(state_dir, options.synchronous, 100);
  if (!db) return db.error();
  auto rows = db->query_int(sql::kCountEvents);
  if (!rows) return rows.error();
  auto statements = WriterStatements::prepare(db->get());
  if (!statements) return statements.error();
  // The checkpoint thread's own connection (store/wal_checkpointer.hpp).
  auto checkpoint_db = open_read_write(state_dir, options.synchronous, 100);
  if (!checkpoint_db) return checkpoint_db.error();
  return std::unique_ptr<EventWriter>(new SqliteEventWriter(
      std::move(*db), std::move(*statements), std::move(*checkpoint_db), options, *rows));
}

}  // namespace edgeward::store
