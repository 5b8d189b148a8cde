#include "store/wal_checkpointer.hpp"

#include <pthread.h>

namespace edgeward::store {

WalCheckpointer::WalCheckpointer(sqlite3* writer_db, sqlite::Connection own, Limits limits)
    : writer_db_(writer_db), own_(std::move(own)), limits_(limits) {
  // Replaces the connection's automatic checkpoint (SQLite implements wal_autocheckpoint with
  // this same hook, so installing ours turns it off).
  sqlite3_wal_hook(writer_db_, &WalCheckpointer::on_wal_commit, this);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "edgeward-ckpt");
    run();
  });
}

WalCheckpointer::~WalCheckpointer() {
  stop();
}

int WalCheckpointer::on_wal_commit(void* self, sqlite3*, const char*, int frames) {
  auto* me = static_cast<WalCheckpointer*>(self);
  // A smaller WAL than after the previous commit: it restarted from its beginning, and what the
  // thread copied was of the previous one.
  if (frames < me->wal_frames_) me->copied_frames_.store(0, std::memory_order_relaxed);
  me->wal_frames_ = frames;
  return SQLITE_OK;
}

void WalCheckpointer::after_commit() {
  const int frames = wal_frames_;
  if (frames >= limits_.hard_frames) {
    // The thread has not kept up, or never gets the pause it needs to finish: copy the rest
    // here, while the writer writes nothing, so that its next transaction restarts the WAL.
    // Waits for a run of the thread in progress (SQLite allows one checkpoint at a time); that
    // wait is the backpressure that bounds the WAL. Until the next write restarts the WAL, a
    // call here (an idle writer also calls after retention steps) finds nothing to copy and
    // returns at once, without syncing.
    std::lock_guard<std::mutex> one_at_a_time(checkpoint_mu_);
    int log = 0, copied = 0;
    if (sqlite3_wal_checkpoint_v2(writer_db_, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied) ==
        SQLITE_OK) {
      ++inline_runs_;
    }
    return;
  }
  const int copied = copied_frames_.load(std::memory_order_relaxed);
  const int uncopied = copied <= frames ? frames - copied : frames;
  if (uncopied < limits_.soft_frames) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (wanted_) return;
    wanted_ = true;
  }
  cv_.notify_one();
}

void WalCheckpointer::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return wanted_ || stopping_; });
      if (stopping_) return;
    }
    {
      std::lock_guard<std::mutex> one_at_a_time(checkpoint_mu_);
      int log = 0, copied = 0;
      if (sqlite3_wal_checkpoint_v2(own_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied) ==
          SQLITE_OK) {
        copied_frames_.store(copied, std::memory_order_relaxed);
        thread_runs_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    wanted_ = false;
  }
}

void WalCheckpointer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The writer's connection may outlive us by a little (it closes after its statements): leave
  // it without a hook pointing at a dead object. Its close runs SQLite's final checkpoint.
  sqlite3_wal_hook(writer_db_, nullptr, nullptr);
}

}  // namespace edgeward::store
