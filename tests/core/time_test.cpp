#include "core/time.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace timefmt = edgeward::timefmt;
using std::chrono::milliseconds;

namespace {
timefmt::TimePoint at_ms(long long ms) {
  return timefmt::TimePoint{milliseconds{ms}};
}

std::string error_code(std::string_view text) {
  auto r = timefmt::parse_rfc3339(text);
  return r.ok() ? "ok" : r.error().code;
}
}  // namespace

TEST_CASE("format_rfc3339 writes UTC with exactly three fraction digits", "[time]") {
  CHECK(timefmt::format_rfc3339(at_ms(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(timefmt::format_rfc3339(at_ms(1'795'394'918'123)) == "2026-11-23T00:48:38.123Z");
  CHECK(timefmt::format_rfc3339(at_ms(1'795'394'918'007)) == "2026-11-23T00:48:38.007Z");
  CHECK(timefmt::format_rfc3339(at_ms(-1)) == "1969-12-31T23:59:59.999Z");
  CHECK(timefmt::format_rfc3339(at_ms(951'782'400'000)) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("parse_rfc3339 reads what format_rfc3339 writes", "[time]") {
  for (long long ms :
       {0LL, 1LL, 999LL, 1'795'394'918'123LL, 951'782'400'000LL, -1LL, 253'402'300'799'999LL}) {
    auto t = at_ms(ms);
    auto back = timefmt::parse_rfc3339(timefmt::format_rfc3339(t));
    REQUIRE(back.ok());
    CHECK(*back == t);
  }
}

TEST_CASE("parse_rfc3339 applies offsets and accepts lowercase and space separators", "[time]") {
  const auto utc = timefmt::parse_rfc3339("2026-11-23T00:48:38Z");
  REQUIRE(utc.ok());
  CHECK(*utc == at_ms(1'795'394'918'000));
  auto plus = timefmt::parse_rfc3339("2026-11-23T02:48:38+02:00");
  REQUIRE(plus.ok());
  CHECK(*plus == *utc);
  auto minus = timefmt::parse_rfc3339("2026-11-22T19:18:38-05:30");
  REQUIRE(minus.ok());
  CHECK(*minus == *utc);
  auto lower = timefmt::parse_rfc3339("2026-11-23t00:48:38z");
  REQUIRE(lower.ok());
  CHECK(*lower == *utc);
  auto space = timefmt::parse_rfc3339("2026-11-23 00:48:38-00:00");
  REQUIRE(space.ok());
  CHECK(*space == *utc);
}

TEST_CASE("parse_rfc3339 truncates fractions to milliseconds", "[time]") {
  auto one = timefmt::parse_rfc3339("1970-01-01T00:00:00.1Z");
  REQUIRE(one.ok());
  CHECK(*one == at_ms(100));
  auto nine = timefmt::parse_rfc3339("1970-01-01T00:00:00.123999999Z");
  REQUIRE(nine.ok());
  CHECK(*nine == at_ms(123));
  auto two = timefmt::parse_rfc3339("1970-01-01T00:00:00.05Z");
  REQUIRE(two.ok());
  CHECK(*two == at_ms(50));
}

TEST_CASE("parse_rfc3339 refuses junk with time.bad_format", "[time]") {
  for (const char* junk :
       {"", "yesterday", "2026-11-23", "2026-11-23T00:48:38", "2026-11-23T00:48Z",
        "2026-11-23X00:48:38Z", "2026-11-23T00:48:38.Z", "2026-11-23T00:48:38Z ",
        " 2026-11-23T00:48:38Z", "2026-11-23T00:48:38+0200", "2026-11-23T00:48:38+02",
        "26-11-23T00:48:38Z", "2026-1-23T00:48:38Z", "2026-11-23T0:48:38Z", "2026/11/23T00:48:38Z",
        "2026-11-23T00:48:38UTC", "+2026-11-23T00:48:38Z", "2026-11-23T00:48:38.12a3Z"}) {
    INFO(junk);
    CHECK(error_code(junk) == "time.bad_format");
  }
}

TEST_CASE("parse_rfc3339 refuses impossible fields with time.out_of_range", "[time]") {
  for (const char* bad : {"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-01-00T00:00:00Z",
                          "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-12-31T23:59:60Z",
                          "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+01:60"}) {
    INFO(bad);
    CHECK(error_code(bad) == "time.out_of_range");
  }
  CHECK(error_code("2024-02-29T00:00:00Z") == "ok");  // leap year
}

TEST_CASE("now is truncated to milliseconds and close to the system clock", "[time]") {
  const auto t = timefmt::now();
  const auto sys = std::chrono::system_clock::now();
  CHECK(std::chrono::abs(sys - t) < std::chrono::seconds{5});
  const std::string s = timefmt::format_rfc3339(t);
  CHECK(s.size() == 24);
  CHECK(s.back() == 'Z');
}
