#include "core/units.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <limits>
#include <string>

namespace units = edgeward::units;
using std::chrono::milliseconds;

namespace {
std::string duration_code(std::string_view text) {
  auto r = units::parse_duration(text);
  return r.ok() ? "ok" : r.error().code;
}
std::string bytes_code(std::string_view text) {
  auto r = units::parse_byte_size(text);
  return r.ok() ? "ok" : r.error().code;
}
long long duration_ms(std::string_view text) {
  auto r = units::parse_duration(text);
  REQUIRE(r.ok());
  return r->count();
}
unsigned long long bytes(std::string_view text) {
  auto r = units::parse_byte_size(text);
  REQUIRE(r.ok());
  return *r;
}
}  // namespace

TEST_CASE("parse_duration reads single terms in every unit", "[units]") {
  CHECK(duration_ms("0") == 0);
  CHECK(duration_ms("0s") == 0);
  CHECK(duration_ms("250ms") == 250);
  CHECK(duration_ms("10s") == 10'000);
  CHECK(duration_ms("5m") == 300'000);
  CHECK(duration_ms("2h") == 7'200'000);
  CHECK(duration_ms("30d") == 2'592'000'000LL);
}

TEST_CASE("parse_duration adds terms written largest unit first", "[units]") {
  CHECK(duration_ms("1h30m") == 5'400'000);
  CHECK(duration_ms("1d2h3m4s5ms") == 93'784'005);
  CHECK(duration_ms("1m90s") == 150'000);  // a term may exceed the next unit
}

TEST_CASE("parse_duration refuses junk with duration.bad_format", "[units]") {
  for (const char* junk :
       {"5", "10", "s", "ms5", "1.5h", "1,5h", "10 s", " 10s", "10s ", "10S", "10sec", "10us",
        "1m1h", "1s1s", "1h-5m", "+5s", "ten seconds", "5m30", "0x10s"}) {
    INFO(junk);
    CHECK(duration_code(junk) == "duration.bad_format");
  }
}

TEST_CASE("parse_duration names empty, negative and overflowing input", "[units]") {
  CHECK(duration_code("") == "duration.empty");
  CHECK(duration_code("-5s") == "duration.negative");
  CHECK(duration_code("-0") == "duration.negative");
  CHECK(duration_code("9223372036854775807ms") == "ok");
  CHECK(duration_code("9223372036854775808ms") == "duration.overflow");
  CHECK(duration_code("106751991168d") == "duration.overflow");
  CHECK(duration_code("106751991167d") == "ok");
  CHECK(duration_code("106751991167d7h12m55s807ms") == "ok");
  CHECK(duration_code("106751991167d7h12m55s808ms") == "duration.overflow");
  CHECK(duration_code("99999999999999999999999s") == "duration.overflow");
}

TEST_CASE("format_duration writes the shortest exact form", "[units]") {
  CHECK(units::format_duration(milliseconds{0}) == "0s");
  CHECK(units::format_duration(milliseconds{90'000}) == "1m30s");
  CHECK(units::format_duration(milliseconds{250}) == "250ms");
  CHECK(units::format_duration(milliseconds{1'500}) == "1s500ms");
  CHECK(units::format_duration(milliseconds{86'400'000}) == "1d");
  CHECK(units::format_duration(milliseconds{93'784'005}) == "1d2h3m4s5ms");
  CHECK(units::format_duration(milliseconds{-90'000}) == "-1m30s");
  CHECK_FALSE(units::format_duration(milliseconds::min()).empty());
}

TEST_CASE("format_duration and parse_duration round-trip", "[units]") {
  for (long long ms : {1LL, 999LL, 60'000LL, 3'599'999LL, 2'592'000'000LL,
                       std::numeric_limits<long long>::max()}) {
    auto back = units::parse_duration(units::format_duration(milliseconds{ms}));
    REQUIRE(back.ok());
    CHECK(back->count() == ms);
  }
}

TEST_CASE("parse_byte_size reads binary and decimal units", "[units]") {
  CHECK(bytes("0") == 0);
  CHECK(bytes("512") == 512);
  CHECK(bytes("512B") == 512);
  CHECK(bytes("64KiB") == 65'536);
  CHECK(bytes("8MiB") == 8'388'608);
  CHECK(bytes("32MiB") == 33'554'432);
  CHECK(bytes("2GiB") == 2'147'483'648ULL);
  CHECK(bytes("1TiB") == 1'099'511'627'776ULL);
  CHECK(bytes("64KB") == 64'000);
  CHECK(bytes("8MB") == 8'000'000);
  CHECK(bytes("3GB") == 3'000'000'000ULL);
  CHECK(bytes("1TB") == 1'000'000'000'000ULL);
}

TEST_CASE("parse_byte_size refuses junk with bytes.bad_format", "[units]") {
  for (const char* junk : {"ten", "MiB", "8M", "8mib", "8 MiB", "8MiB ", " 8", "1.5MiB", "1,5MB",
                           "8KiBB", "8iB", "+8", "0x10", "8b", "8Mb"}) {
    INFO(junk);
    CHECK(bytes_code(junk) == "bytes.bad_format");
  }
}

TEST_CASE("parse_byte_size names empty, negative and overflowing input", "[units]") {
  CHECK(bytes_code("") == "bytes.empty");
  CHECK(bytes_code("-1") == "bytes.negative");
  CHECK(bytes_code("-8MiB") == "bytes.negative");
  CHECK(bytes_code("18446744073709551615") == "ok");
  CHECK(bytes_code("18446744073709551616") == "bytes.overflow");
  CHECK(bytes_code("16777216TiB") == "bytes.overflow");
  CHECK(bytes_code("16777215TiB") == "ok");
  CHECK(bytes_code("99999999999999999999999KiB") == "bytes.overflow");
}

TEST_CASE("format_byte_size uses the largest binary unit that divides exactly", "[units]") {
  CHECK(units::format_byte_size(0) == "0B");
  CHECK(units::format_byte_size(1000) == "1000B");
  CHECK(units::format_byte_size(1024) == "1KiB");
  CHECK(units::format_byte_size(1536) == "1536B");
  CHECK(units::format_byte_size(8'388'608) == "8MiB");
  CHECK(units::format_byte_size(65'536) == "64KiB");
  CHECK(units::format_byte_size(3ULL << 30) == "3GiB");
  CHECK(units::format_byte_size(5ULL << 40) == "5TiB");
  CHECK(units::format_byte_size(1ULL << 50) == "1024TiB");
  for (unsigned long long n : {0ULL, 1ULL, 1023ULL, 1ULL << 20, 12345678ULL,
                               std::numeric_limits<unsigned long long>::max()}) {
    auto back = units::parse_byte_size(units::format_byte_size(n));
    REQUIRE(back.ok());
    CHECK(*back == n);
  }
}
