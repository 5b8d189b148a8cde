#pragma once
// EventWriter: the only path by which events reach <state_dir>/edgeward.db (DESIGN §4).
//
// Rules:
//  - submit() is called from any thread (the event loops). It never blocks on SQLite, never does
//    I/O, and holds a mutex only long enough to append to a vector. It returns false when the
//    event was not accepted: counted in `dropped` (queue full) or `rejected` (failed validate()).
//  - One writer thread owns the SQLite connection. It drains the queue in batches: a batch is
//    committed when `batch_size` events are waiting or `flush_interval` after the first one
//    arrived, whichever comes first; one transaction per batch.
//  - "committed" means the batch's COMMIT returned SQLITE_OK: the rows survive a process kill
//    (they are in the WAL) and, with the default synchronous=FULL, power loss (docs/store.md).
//  - When a write fails (disk full, database locked/busy, I/O error) the batch is rolled back and
//    kept in memory; the thread retries with backoff. Events keep queueing up to
//    `queue_capacity` (waiting + retrying); beyond that submit() drops and counts. The caller
//    never blocks.
//  - Retention runs on the writer thread between batches, one small DELETE transaction at a
//    time, so it never holds the database for long (see RetentionPolicy).
//  - shutdown() (also called by the destructor) stops accepting, writes everything queued and
//    joins the thread, giving up after `shutdown_timeout` if the disk still refuses writes; what
//    could not be written is counted in `dropped`.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "core/result.hpp"
#include "store/event.hpp"

namespace edgeward::store {

// DESIGN §4 / §5 `events:` config block.
struct RetentionPolicy {
  // Rows older than this are pruned once uploaded (`events.retention_days`, default 30).
  std::chrono::hours retention{24 * 30};
  // Above this many rows the oldest are pruned, uploaded ones first, then not-uploaded ones
  // (`events.max_rows`, default 1,000,000).
  std::int64_t max_rows = 1'000'000;
  // True when a sync client will upload events (the gateway is enrolled). When false
  // (standalone), nothing will ever be uploaded, so rows older than `retention` are pruned
  // whether uploaded or not; otherwise a not-uploaded row is pruned only past `max_rows`.
  bool uploads_expected = true;
  // Rows per DELETE transaction; small so that a prune never stalls a batch for long.
  std::int64_t prune_batch = 500;
  // How often the writer looks for rows past retention when it has nothing else to do.
  std::chrono::milliseconds check_interval{1000};
};

// SQLite `PRAGMA synchronous` for the writer's connection (docs/store.md, "Durability").
enum class Synchronous : std::uint8_t {
  // WAL + NORMAL: a committed batch survives a process crash or kill (it is in the WAL file),
  // but the WAL is fsync'd only at checkpoints, so power loss or an OS crash can lose the
  // batches committed since (up to the kernel's writeback delay, ~30 s), never corrupting.
  kNormal,
  // WAL + FULL: the WAL is fsync'd on every commit, so a committed batch survives power loss
  // too. The cost is one fsync per batch; batches grow while an fsync is in flight (group
  // commit), so throughput holds up (docs/benchmarks.md). The default.
  kFull,
};

struct WriterOptions {
  // Events held in memory (waiting for a batch or retrying a failed one) before submit() drops.
  std::size_t queue_capacity = 100'000;
  // Maximum events per transaction.
  std::size_t batch_size = 4096;
  // Longest time an event waits before its batch is committed.
  std::chrono::milliseconds flush_interval{5};
  // First and maximum pause between retries of a failed write (doubling).
  std::chrono::milliseconds retry_initial{20};
  std::chrono::milliseconds retry_max{1000};
  // Upper bound for shutdown() when writes keep failing.
  std::chrono::milliseconds shutdown_timeout{5000};
  Synchronous synchronous = Synchronous::kFull;
  RetentionPolicy retention;
  // WAL size, in 4 KiB pages, past which a checkpoint thread copies it into the database file
  // (off the writer's commit path), and past which the writer checkpoints itself so that the
  // WAL stays bounded under a sustained burst (docs/store.md, "Checkpoints").
  int checkpoint_pages = 4000;
  int wal_limit_pages = 16000;
};

// Monotonic counters since open(), except `queued` (a gauge). Read from any thread.
struct WriterCounters {
  std::uint64_t submitted = 0;            // submit() calls that accepted the event
  std::uint64_t committed = 0;            // events in committed transactions
  std::uint64_t dropped = 0;              // queue full, or still unwritten when shutdown gave up
  std::uint64_t rejected = 0;             // refused by validate()
  std::uint64_t queued = 0;               // accepted, not yet committed nor dropped (gauge)
  std::uint64_t batches = 0;              // committed transactions of events
  std::uint64_t write_errors = 0;         // failed batch attempts (each retry counts)
  std::uint64_t pruned_uploaded = 0;      // rows removed by retention that had been uploaded
  std::uint64_t pruned_not_uploaded = 0;  // rows removed past max_rows before upload
  std::uint64_t pruned() const { return pruned_uploaded + pruned_not_uploaded; }
};

class EventWriter {
 public:
  // Opens (creating and migrating as needed) <state_dir>/edgeward.db and starts the writer
  // thread. Called once at daemon start, on the main thread. Errors: "store.open_failed",
  // "store.newer_schema", "store.migration_failed", "store.state_dir" (missing or not a
  // directory), "store.bad_options".
  static Result<std::unique_ptr<EventWriter>> open(const std::filesystem::path& state_dir,
                                                   const WriterOptions& options = {});

  // Flushes and stops (see shutdown()).
  virtual ~EventWriter() = default;

  // Queues one event. Any thread; never blocks on I/O. True when accepted (it will be committed
  // unless the disk refuses writes past the memory bound or shutdown); false when refused, and
  // counted. Events submitted after shutdown() began are refused and counted as dropped.
  virtual bool submit(Event&& event) = 0;

  // A consistent-enough snapshot (each counter read atomically). Any thread.
  virtual WriterCounters counters() const = 0;

  // Replaces the retention policy (config reload). Any thread; applied by the writer thread at
  // its next retention check.
  virtual void set_retention(const RetentionPolicy& policy) = 0;

  // Stops accepting, commits everything queued, joins the writer thread. Idempotent; any thread
  // but the writer's. Returns an error ("store.shutdown_incomplete") when events had to be
  // dropped because writes kept failing for `shutdown_timeout`.
  virtual Status shutdown() = 0;
};

}  // namespace edgeward::store
