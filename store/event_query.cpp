#include "store/event_query.hpp"

#include <algorithm>
#include <system_error>
#include <unordered_map>

#include "core/ids.hpp"
#include "store/database.hpp"
#include "store/event_row.hpp"
#include "store/sql.hpp"

namespace edgeward::store {

namespace fs = std::filesystem;

Result<EventQuery> EventQuery::open(const fs::path& state_dir) {
  auto db = open_read_only(state_dir);
  if (!db) return db.error();
  EventQuery q;
  q.path_ = database_path(state_dir);
  q.db_ = std::move(*db);
  return q;
}

namespace {

Error query_error(sqlite3* db, int rc) {
  return make_error("store.query_failed", sqlite::describe(db, rc));
}

// Reads every row of `run` into `out`.
Status collect(sqlite3* db, sqlite::Statement::Run& run, std::vector<Event>& out) {
  for (;;) {
    const int rc = run.step();
    if (rc == SQLITE_DONE) return ok_status();
    if (rc != SQLITE_ROW) return query_error(db, rc);
    auto e = decode_event_row(run);
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
}

// The WHERE clause for `filter` (plus `after`), with the values to bind in order.
struct Where {
  std::string text;
  std::vector<std::string> texts;  // bound as text, in order, before `after`
};

Where build_where(const EventFilter& f, std::optional<std::int64_t> after) {
  Where w;
  std::vector<std::string> conds;
  if (!f.severities.empty()) {
    std::string c = "severity IN (";
    for (std::size_t i = 0; i < f.severities.size(); ++i) {
      c += i ? ", ?" : "?";
      w.texts.emplace_back(to_string(f.severities[i]));
    }
    c += ")";
    conds.push_back(std::move(c));
  }
  if (!f.reason_prefix.empty()) {
    conds.emplace_back(sql::kWhereReasonPrefix);
    w.texts.push_back(f.reason_prefix);
    // Every code that starts with the prefix sorts below prefix + DEL (codes are ASCII letters,
    // digits, '_' and '.').
    w.texts.push_back(f.reason_prefix + '\x7f');
  }
  if (f.since) {
    conds.emplace_back(sql::kWhereSince);
    w.texts.push_back(timefmt::format_rfc3339(*f.since));
  }
  if (f.until) {
    conds.emplace_back(sql::kWhereUntil);
    w.texts.push_back(timefmt::format_rfc3339(*f.until));
  }
  if (after) conds.emplace_back(sql::kWhereAfterId);
  for (std::size_t i = 0; i < conds.size(); ++i) {
    w.text += i ? " AND " : " WHERE ";
    w.text += conds[i];
  }
  return w;
}

}  // namespace

Result<std::vector<Event>> EventQuery::select(const EventFilter& filter,
                                              std::optional<std::int64_t> after,
                                              bool newest_first) {
  const Where where = build_where(filter, after);
  std::string text = sql::kSelectEvents;
  if (newest_first && filter.limit > 0) {
    // Ids of the page from the index, then the rows (see sql.hpp).
    text += sql::kWhereIdIn;
    text += sql::kSelectIds;
    text += where.text;
    text += sql::kOrderNewestFirst;
    text += " LIMIT " + std::to_string(filter.limit);
    text += ")";
    text += sql::kOrderNewestFirst;
  } else {
    text += where.text;
    text += newest_first ? sql::kOrderNewestFirst : sql::kOrderById;
    if (filter.limit > 0) text += " LIMIT " + std::to_string(filter.limit);
  }
  auto stmt = sqlite::Statement::prepare(db_.get(), text);
  if (!stmt) return stmt.error();
  sqlite::Statement::Run run(*stmt);
  int i = 1;
  for (const auto& t : where.texts) run.bind(i++, std::string_view(t));
  if (after) run.bind(i++, *after);
  std::vector<Event> out;
  if (auto st = collect(db_.get(), run, out); !st) return st.error();
  return out;
}

Result<std::vector<Event>> EventQuery::list(const EventFilter& filter) {
  return select(filter, std::nullopt, true);
}

Result<std::vector<Event>> EventQuery::after(std::int64_t after_id, const EventFilter& filter) {
  return select(filter, after_id, false);
}

Result<std::optional<Event>> EventQuery::find_uid(const std::string& uid) {
  auto stmt = sqlite::Statement::prepare(db_.get(), sql::kSelectByUid);
  if (!stmt) return stmt.error();
  sqlite::Statement::Run run(*stmt);
  run.bind(1, std::string_view(uid));
  std::vector<Event> out;
  if (auto st = collect(db_.get(), run, out); !st) return st.error();
  if (out.empty()) return std::optional<Event>();
  return std::optional<Event>(std::move(out.front()));
}

Result<std::vector<Event>> EventQuery::find_request(const std::string& request_id) {
  // "req_" + ULID: the ULID's time is when the request arrived. Its events are recorded while
  // it runs: from a little before (clock steps) to a day after (long streams), generously.
  const auto ms = request_id.size() == 30 && request_id.rfind("req_", 0) == 0
                      ? ids::ulid_time_ms(std::string_view(request_id).substr(4))
                      : Result<std::uint64_t>(make_error("ids.bad_ulid", "not a request id"));
  if (!ms) return std::vector<Event>();
  const timefmt::TimePoint started{std::chrono::milliseconds(static_cast<std::int64_t>(*ms))};
  const std::string from = timefmt::format_rfc3339(started - std::chrono::hours(1));
  const std::string to = timefmt::format_rfc3339(started + std::chrono::hours(24));
  auto stmt = sqlite::Statement::prepare(db_.get(), sql::kSelectByRequest);
  if (!stmt) return stmt.error();
  sqlite::Statement::Run run(*stmt);
  run.bind(1, std::string_view(request_id));
  run.bind(2, std::string_view(from));
  run.bind(3, std::string_view(to));
  std::vector<Event> out;
  if (auto st = collect(db_.get(), run, out); !st) return st.error();
  return out;
}

Result<std::vector<ReasonCount>> EventQuery::stats(const EventFilter& filter) {
  const Where where = build_where(filter, std::nullopt);
  std::string text = sql::kStatsSelect;
  text += where.text;
  text += sql::kStatsOrder;
  auto stmt = sqlite::Statement::prepare(db_.get(), text);
  if (!stmt) return stmt.error();
  sqlite::Statement::Run run(*stmt);
  int i = 1;
  for (const auto& t : where.texts) run.bind(i++, std::string_view(t));

  struct Group {
    std::string reason_code;
    std::string severity;
    std::int64_t count = 0;
    std::string first, last;  // rows arrive in time order
  };
  // A few dozen groups at most: keyed by "reason\x1fseverity" in a reused buffer, so the
  // per-row work is one hash lookup without allocation.
  std::unordered_map<std::string, Group> groups;
  std::string key;
  for (;;) {
    const int rc = run.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return query_error(db_.get(), rc);
    const std::string_view reason = run.text(0);
    const std::string_view severity = run.text(1);
    const std::string_view at = run.text(2);
    key.assign(reason);
    key += '\x1f';
    key += severity;
    auto it = groups.find(key);
    if (it == groups.end()) {
      it = groups
               .emplace(key, Group{std::string(reason), std::string(severity), 0, std::string(at),
                                   std::string(at)})
               .first;
    }
    ++it->second.count;
    it->second.last.assign(at);
  }
  std::vector<ReasonCount> out;
  out.reserve(groups.size());
  for (auto& [k, g] : groups) {
    auto sev = parse_severity(g.severity);
    auto first = timefmt::parse_rfc3339(g.first);
    auto last = timefmt::parse_rfc3339(g.last);
    if (!sev || !first || !last) {
      return make_error("store.bad_row", "stored severity or occurred_at is malformed");
    }
    out.push_back(ReasonCount{std::move(g.reason_code), *sev, g.count, *first, *last});
  }
  std::sort(out.begin(), out.end(), [](const ReasonCount& a, const ReasonCount& b) {
    if (a.count != b.count) return a.count > b.count;
    if (a.reason_code != b.reason_code) return a.reason_code < b.reason_code;
    return a.severity < b.severity;
  });
  return out;
}

Result<std::int64_t> EventQuery::max_id() {
  auto v = db_.query_int(sql::kMaxId);
  if (!v) return v.error();
  return *v;
}

Result<StoreSummary> EventQuery::summary() {
  StoreSummary s;
  auto version = schema_version(db_);
  if (!version) return version.error();
  s.schema_version = *version;
  {
    auto stmt = sqlite::Statement::prepare(db_.get(), sql::kSummary);
    if (!stmt) return stmt.error();
    sqlite::Statement::Run run(*stmt);
    const int rc = run.step();
    if (rc != SQLITE_ROW) return query_error(db_.get(), rc);
    s.events = run.int64(0);
    s.not_uploaded = run.int64(1);
    s.max_id = run.int64(2);
  }
  {
    auto stmt = sqlite::Statement::prepare(db_.get(), sql::kLastEvent);
    if (!stmt) return stmt.error();
    sqlite::Statement::Run run(*stmt);
    std::vector<Event> last;
    if (auto st = collect(db_.get(), run, last); !st) return st.error();
    if (!last.empty()) s.last_event = std::move(last.front());
  }
  {
    auto stmt = sqlite::Statement::prepare(db_.get(), sql::kBlobActive);
    if (!stmt) return stmt.error();
    sqlite::Statement::Run run(*stmt);
    const int rc = run.step();
    if (rc == SQLITE_ROW) {
      s.active_rules_version = run.int64(0);
      s.active_rules_sha256 = std::string(run.text(1));
    } else if (rc != SQLITE_DONE) {
      return query_error(db_.get(), rc);
    }
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    fs::path p = path_;
    p += suffix;
    const auto size = fs::file_size(p, ec);
    if (!ec) s.database_bytes += size;
  }
  return s;
}

}  // namespace edgeward::store
