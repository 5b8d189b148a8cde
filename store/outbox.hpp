#pragma once
// Outbox: the events not yet uploaded, for the sync client (DESIGN §9.2 POST /agent/events).
//
// Rules:
//  - Its own read-write connection to <state_dir>/edgeward.db; it only reads events and flips
//    their `uploaded` flag, so it never contends with the writer thread for long (WAL: reads do
//    not block; the UPDATE takes the write lock for one short transaction).
//  - Delivery is at least once: call mark_uploaded() only after the cloud answered 200. A crash
//    between the two re-sends the batch; the cloud is idempotent on uid.
//  - Thread-safe (one mutex); normally used from the sync thread only. Never on an event loop.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/event.hpp"
#include "store/sqlite.hpp"

namespace edgeward::store {

class Outbox {
 public:
  // Opens (creating/migrating as needed) <state_dir>/edgeward.db. Errors as open_read_write().
  static Result<std::unique_ptr<Outbox>> open(const std::filesystem::path& state_dir);

  // Up to `limit` events with uploaded = 0, oldest id first. Error "store.query_failed".
  Result<std::vector<Event>> next_batch(std::size_t limit);

  // Marks these uids uploaded, in one transaction; returns how many rows changed (uids already
  // uploaded, pruned or unknown are not counted). Error "store.write_failed" (nothing marked).
  Result<std::size_t> mark_uploaded(const std::vector<std::string>& uids);

  // How many events wait for upload.
  Result<std::int64_t> pending();

 private:
  std::mutex mu_;
  sqlite::Connection db_;
  sqlite::Statement next_, mark_, pending_, begin_, commit_, rollback_;
};

}  // namespace edgeward::store
