#include "store/event_query.hpp"

#include <catch2/catch.hpp>

#include "store/database.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using edgeward::store::testing::make_event;
using edgeward::store::testing::TempStateDir;

namespace {

timefmt::TimePoint at(const char* text) {
  return *timefmt::parse_rfc3339(text);
}

// Five events at known times:
//   1 high     DLP.PII.IBAN          10:00
//   2 critical DLP.SECRET.AWS_ACCESS_KEY 10:05
//   3 high     DLP.PII.EMAIL         10:10
//   4 low      INJECTION.PROMPT_OVERRIDE 10:15
//   5 high     DLP.PIIX.FAKE         10:20   (shares the string prefix "DLP.PII")
void seed(const std::filesystem::path& dir) {
  auto writer = EventWriter::open(dir);
  REQUIRE(writer);
  REQUIRE(
      (*writer)->submit(make_event(Severity::kHigh, "DLP.PII.IBAN", at("2026-11-20T10:00:00Z"))));
  REQUIRE((*writer)->submit(
      make_event(Severity::kCritical, "DLP.SECRET.AWS_ACCESS_KEY", at("2026-11-20T10:05:00Z"))));
  REQUIRE(
      (*writer)->submit(make_event(Severity::kHigh, "DLP.PII.EMAIL", at("2026-11-20T10:10:00Z"))));
  REQUIRE((*writer)->submit(
      make_event(Severity::kLow, "INJECTION.PROMPT_OVERRIDE", at("2026-11-20T10:15:00Z"))));
  REQUIRE(
      (*writer)->submit(make_event(Severity::kHigh, "DLP.PIIX.FAKE", at("2026-11-20T10:20:00Z"))));
  REQUIRE((*writer)->shutdown());
}

std::vector<std::int64_t> row_ids(const std::vector<Event>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.id);
  return out;
}

EventQuery open_query(const std::filesystem::path& dir) {
  auto q = EventQuery::open(dir);
  REQUIRE(q);
  return std::move(*q);
}

}  // namespace

TEST_CASE("list returns every event newest first when unfiltered", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  CHECK(row_ids(*q.list({})) == std::vector<std::int64_t>{5, 4, 3, 2, 1});
}

TEST_CASE("list filters by severity, any of several", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  EventFilter f;
  f.severities = {Severity::kHigh};
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{5, 3, 1});
  f.severities = {Severity::kCritical, Severity::kLow};
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{4, 2});
}

TEST_CASE("list filters by reason code string prefix", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  EventFilter f;
  f.reason_prefix = "DLP.PII.";
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{3, 1});
  f.reason_prefix = "DLP.PII";
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{5, 3, 1});
  f.reason_prefix = "DLP";
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{5, 3, 2, 1});
  f.reason_prefix = "INJECTION.PROMPT_OVERRIDE";
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{4});
}

TEST_CASE("list time window is half-open: since inclusive, until exclusive", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  EventFilter f;
  f.since = at("2026-11-20T10:05:00Z");
  f.until = at("2026-11-20T10:15:00Z");
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{3, 2});
}

TEST_CASE("list combines filters and applies the limit to the newest", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  EventFilter f;
  f.severities = {Severity::kHigh};
  f.since = at("2026-11-20T10:00:00Z");
  f.limit = 2;
  CHECK(row_ids(*q.list(f)) == std::vector<std::int64_t>{5, 3});
}

TEST_CASE("after returns rows past an id, oldest first, for tail and export", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  CHECK(row_ids(*q.after(2, {})) == std::vector<std::int64_t>{3, 4, 5});
  EventFilter f;
  f.limit = 1;
  CHECK(row_ids(*q.after(0, f)) == std::vector<std::int64_t>{1});
  CHECK(*q.max_id() == 5);
}

TEST_CASE("find_uid and find_request look up single events and whole requests", "[store][query]") {
  TempStateDir dir;
  auto a = make_event();
  auto b = make_event();
  b.request_id = a.request_id;
  const std::string uid = b.uid;
  const std::string req = a.request_id;
  {
    auto writer = EventWriter::open(dir.path());
    REQUIRE(writer);
    REQUIRE((*writer)->submit(std::move(a)));
    REQUIRE((*writer)->submit(std::move(b)));
    REQUIRE((*writer)->submit(make_event()));
    REQUIRE((*writer)->shutdown());
  }
  auto q = open_query(dir.path());
  auto found = q.find_uid(uid);
  REQUIRE(found);
  REQUIRE(found->has_value());
  CHECK((*found)->id == 2);
  auto missing = q.find_uid("evt_01JDZZZZZZZZZZZZZZZZZZZZZZ");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  CHECK(row_ids(*q.find_request(req)) == std::vector<std::int64_t>{1, 2});
}

TEST_CASE("stats counts by reason code and severity over the window", "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  {
    auto writer = EventWriter::open(dir.path());
    REQUIRE(writer);
    REQUIRE(
        (*writer)->submit(make_event(Severity::kHigh, "DLP.PII.IBAN", at("2026-11-20T10:30:00Z"))));
    REQUIRE((*writer)->shutdown());
  }
  auto q = open_query(dir.path());
  EventFilter f;
  f.since = at("2026-11-20T10:00:00Z");
  auto s = q.stats(f);
  REQUIRE(s);
  REQUIRE(s->size() == 5);
  CHECK((*s)[0].reason_code == "DLP.PII.IBAN");
  CHECK((*s)[0].count == 2);
  CHECK((*s)[0].severity == Severity::kHigh);
  CHECK((*s)[0].first == at("2026-11-20T10:00:00Z"));
  CHECK((*s)[0].last == at("2026-11-20T10:30:00Z"));
  f.since = at("2026-11-20T10:16:00Z");
  s = q.stats(f);
  REQUIRE(s);
  REQUIRE(s->size() == 2);
}

TEST_CASE("summary reports counts, the last event and no active rules on a fresh store",
          "[store][query]") {
  TempStateDir dir;
  seed(dir.path());
  auto q = open_query(dir.path());
  auto s = q.summary();
  REQUIRE(s);
  CHECK(s->schema_version == schema_version_supported());
  CHECK(s->events == 5);
  CHECK(s->not_uploaded == 5);
  CHECK(s->max_id == 5);
  REQUIRE(s->last_event);
  CHECK(s->last_event->reason_code == "DLP.PIIX.FAKE");
  CHECK_FALSE(s->active_rules_version);
  CHECK(s->database_bytes > 0);
}

TEST_CASE("a query sees rows committed after it was opened", "[store][query]") {
  TempStateDir dir;
  auto writer = EventWriter::open(dir.path());
  REQUIRE(writer);
  REQUIRE((*writer)->submit(make_event()));
  REQUIRE(
      edgeward::store::testing::eventually([&] { return (*writer)->counters().committed == 1; }));
  auto q = open_query(dir.path());
  CHECK(*q.max_id() == 1);
  REQUIRE((*writer)->submit(make_event()));
  REQUIRE(
      edgeward::store::testing::eventually([&] { return (*writer)->counters().committed == 2; }));
  CHECK(*q.max_id() == 2);
  REQUIRE((*writer)->shutdown());
}
