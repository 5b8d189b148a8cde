#pragma once
// WalCheckpointer: copies the event writer's WAL back into the database file on a thread of its
// own, so that the writer's commits never wait for a checkpoint (store-internal; used by
// SqliteEventWriter only).
//
// Why: with SQLite's automatic checkpoint, the commit that pushes the WAL past
// `wal_autocheckpoint` pages also copies every page of the WAL into the database file and, with
// synchronous=FULL, fsyncs both files, all inside the writer's commit. bench/store measured that
// at ~15% of the writer's time per event, in stalls of tens of milliseconds while events queue.
//
// Rules:
//  - The writer's connection has no automatic checkpoint: attach() installs a WAL hook on it
//    that records the WAL's size after each commit (writer thread, inside COMMIT).
//  - After each of its write transactions the writer calls after_commit() (writer thread). Past
//    `soft_frames` pages of WAL not yet copied, it wakes the checkpoint thread, which runs a
//    PASSIVE checkpoint on its own connection: it copies what is committed, never blocks the
//    writer nor readers, and is never blocked by them.
//  - A WAL restarts from its beginning only when a checkpoint has copied all of it before the
//    next write transaction begins; a writer that never pauses (a sustained burst) could outrun
//    the thread forever and grow the WAL without bound. So past `hard_frames` pages of WAL,
//    after_commit() checkpoints inline on the writer's connection: one stall, short because the
//    thread has already copied most of it, after which the next transaction restarts the WAL.
//  - stop() (and the destructor) joins the thread; call it before closing the writer's
//    connection. Everything committed is in the WAL whatever the checkpoints do: they only
//    bound its size and move pages to the main file; durability does not depend on them.

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "store/sqlite.hpp"

namespace edgeward::store {

class WalCheckpointer {
 public:
  struct Limits {
    int soft_frames = 4000;   // pages (4 KiB each): wake the checkpoint thread
    int hard_frames = 16000;  // pages: checkpoint inline on the writer's connection
  };

  // `own` is the checkpoint thread's connection to the same database (read-write; it never
  // writes rows). Starts the thread. Call on the thread that owns `writer_db`, before it writes.
  WalCheckpointer(sqlite3* writer_db, sqlite::Connection own, Limits limits);
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Writer thread, after a COMMIT (or any autocommit write) returned.
  void after_commit();

  // Joins the checkpoint thread. Idempotent.
  void stop();

  // Counters for tests and the bench: checkpoints run by the thread and inline.
  std::uint64_t thread_checkpoints() const { return thread_runs_.load(); }
  std::uint64_t inline_checkpoints() const { return inline_runs_; }
  // Pages in the WAL after the writer's last commit (writer thread).
  int wal_frames() const { return wal_frames_; }

 private:
  static int on_wal_commit(void* self, sqlite3*, const char*, int frames);
  void run();

  sqlite3* writer_db_;
  sqlite::Connection own_;
  const Limits limits_;

  int wal_frames_ = 0;             // writer thread: WAL size after its last commit
  std::uint64_t inline_runs_ = 0;  // writer thread
  std::atomic<std::uint64_t> thread_runs_{0};
  // WAL frames the thread's last run copied; reset by the writer when the WAL restarts.
  std::atomic<int> copied_frames_{0};

  std::mutex checkpoint_mu_;  // held for each checkpoint, by the thread or inline
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // last: started once everything above exists
};

}  // namespace edgeward::store
