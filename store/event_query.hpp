#pragma once
// EventQuery: read-only queries over the event store, for the `edgeward events` and `status`
// commands (DESIGN §6).
//
// Rules:
//  - Opens the database read-only (store/database.hpp open_read_only) and never writes. Works
//    while the daemon writes: each call is its own short read transaction on a WAL snapshot.
//  - Not thread-safe; one instance per thread.
//  - Time filters are half-open: since <= occurred_at < until.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "store/event.hpp"
#include "store/sqlite.hpp"

namespace edgeward::store {

struct EventFilter {
  std::vector<Severity> severities;  // any of these; empty = every severity
  std::string reason_prefix;         // reason_code starts with this; empty = any
  std::optional<timefmt::TimePoint> since;
  std::optional<timefmt::TimePoint> until;
  std::int64_t limit = 0;  // 0 = no limit
};

// One row of `events stats`.
struct ReasonCount {
  std::string reason_code;
  Severity severity = Severity::kInfo;
  std::int64_t count = 0;
  timefmt::TimePoint first{};
  timefmt::TimePoint last{};
};

// For `edgeward status` when the daemon is not reachable.
struct StoreSummary {
  int schema_version = 0;
  std::int64_t events = 0;
  std::int64_t not_uploaded = 0;
  std::int64_t max_id = 0;
  std::optional<Event> last_event;
  // The active rule blob, when one was ever accepted.
  std::optional<std::int64_t> active_rules_version;
  std::optional<std::string> active_rules_sha256;
  std::uint64_t database_bytes = 0;  // edgeward.db + -wal on disk
};

class EventQuery {
 public:
  // Opens <state_dir>/edgeward.db read-only; errors as open_read_only().
  static Result<EventQuery> open(const std::filesystem::path& state_dir);

  // Matching events, newest first (occurred_at, then id, descending), at most filter.limit.
  Result<std::vector<Event>> list(const EventFilter& filter);

  // Matching events with id > after_id, oldest first (by id), at most filter.limit: `events tail`
  // polls with the last id it printed, `events export` pages through everything.
  Result<std::vector<Event>> after(std::int64_t after_id, const EventFilter& filter);

  // The event with this uid, or nullopt.
  Result<std::optional<Event>> find_uid(const std::string& uid);

  // Every event of one request ("req_…"), by id. Searched from 1 h before to 24 h after the
  // request id's ULID time (when the request arrived); none for a malformed id.
  Result<std::vector<Event>> find_request(const std::string& request_id);

  // Counts grouped by (reason_code, severity) over the time window of `filter` (its severity and
  // reason filters apply too), largest first.
  Result<std::vector<ReasonCount>> stats(const EventFilter& filter);

  // The largest event id (0 when empty): where `events tail` starts following.
  Result<std::int64_t> max_id();

  // Row counts, last event, active rules version, file sizes.
  Result<StoreSummary> summary();

 private:
  Result<std::vector<Event>> select(const EventFilter& filter, std::optional<std::int64_t> after,
                                    bool newest_first);

  std::filesystem::path path_;
  sqlite::Connection db_;
};

}  // namespace edgeward::store
