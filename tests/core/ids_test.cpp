#include "core/ids.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ids = edgeward::ids;

TEST_CASE("uuid_v4 makes lowercase canonical version-4 variant-1 UUIDs", "[ids]") {
  for (int i = 0; i < 200; ++i) {
    const std::string u = ids::uuid_v4();
    REQUIRE(u.size() == 36);
    CHECK(ids::is_uuid(u));
    CHECK(u[14] == '4');
    CHECK((u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b'));
    for (char c : u) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'));
  }
}

TEST_CASE("uuid_v4 does not repeat", "[ids]") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(ids::uuid_v4());
  CHECK(seen.size() == 10000);
}

TEST_CASE("is_uuid accepts any version in either case and refuses malformed text", "[ids]") {
  CHECK(ids::is_uuid("0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11"));
  CHECK(ids::is_uuid("0B6F5E0A-6A43-1C61-9D1E-6F7A5F8D2C11"));
  CHECK_FALSE(ids::is_uuid(""));
  CHECK_FALSE(ids::is_uuid("0b6f5e0a6a434c619d1e6f7a5f8d2c11"));       // no dashes
  CHECK_FALSE(ids::is_uuid("0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c1"));    // short
  CHECK_FALSE(ids::is_uuid("0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c111"));  // long
  CHECK_FALSE(ids::is_uuid("0b6f5e0g-6a43-4c61-9d1e-6f7a5f8d2c11"));   // 'g'
  CHECK_FALSE(ids::is_uuid("0b6f5e0a-6a434-c61-9d1e-6f7a5f8d2c11"));   // dash misplaced
}

TEST_CASE("ulid is 26 Crockford base32 characters encoding the current millisecond", "[ids]") {
  using namespace std::chrono;
  const auto before = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  const std::string u = ids::ulid();
  const auto after = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  REQUIRE(u.size() == 26);
  CHECK(ids::is_ulid(u));
  for (char c : u) {
    CHECK(std::string_view("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c) != std::string_view::npos);
  }
  auto ms = ids::ulid_time_ms(u);
  REQUIRE(ms.ok());
  CHECK(static_cast<long long>(*ms) >= before);
  CHECK(static_cast<long long>(*ms) <= after);
}

TEST_CASE("ulids made in a row sort in the order they were made", "[ids]") {
  std::vector<std::string> made;
  for (int i = 0; i < 5000; ++i) made.push_back(ids::ulid());
  for (std::size_t i = 1; i < made.size(); ++i) {
    INFO(made[i - 1] << " then " << made[i]);
    REQUIRE(made[i - 1] < made[i]);
  }
}

TEST_CASE("ulids stay unique and monotonic across threads", "[ids]") {
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::vector<std::string>> per(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&per, t] {
      for (int i = 0; i < kEach; ++i) per[static_cast<std::size_t>(t)].push_back(ids::ulid());
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& v : per) {
    for (std::size_t i = 1; i < v.size(); ++i) REQUIRE(v[i - 1] < v[i]);
    all.insert(v.begin(), v.end());
  }
  CHECK(all.size() == static_cast<std::size_t>(kThreads * kEach));
}

TEST_CASE("event_uid and request_id are prefixed ULIDs", "[ids]") {
  const std::string e = ids::event_uid();
  const std::string r = ids::request_id();
  REQUIRE(e.rfind("evt_", 0) == 0);
  REQUIRE(r.rfind("req_", 0) == 0);
  CHECK(ids::is_ulid(std::string_view(e).substr(4)));
  CHECK(ids::is_ulid(std::string_view(r).substr(4)));
  CHECK(ids::event_uid() > e);
}

TEST_CASE("is_ulid refuses wrong length, letters outside Crockford's alphabet and overflow",
          "[ids]") {
  CHECK(ids::is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  CHECK(ids::is_ulid("01arz3ndektsv4rrffq69g5fav"));  // lowercase is the same ULID
  CHECK(ids::is_ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"));  // the largest ULID
  CHECK_FALSE(ids::is_ulid(""));
  CHECK_FALSE(ids::is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FA"));    // 25
  CHECK_FALSE(ids::is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAVV"));  // 27
  CHECK_FALSE(ids::is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU"));   // U is not in the alphabet
  CHECK_FALSE(ids::is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAI"));   // neither is I
  CHECK_FALSE(ids::is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FA-"));
  CHECK_FALSE(ids::is_ulid("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"));  // beyond 128 bits
}

TEST_CASE("ulid_time_ms decodes the spec's example and refuses non-ULIDs", "[ids]") {
  // From the ULID specification: ulid(1469918176385) starts "01ARYZ6S41".
  auto ms = ids::ulid_time_ms("01ARYZ6S41TSV4RRFFQ69G5FAV");
  REQUIRE(ms.ok());
  CHECK(*ms == 1469918176385ULL);
  auto max = ids::ulid_time_ms("7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
  REQUIRE(max.ok());
  CHECK(*max == (1ULL << 48) - 1);
  auto bad = ids::ulid_time_ms("evt_01ARYZ6S41TSV4RRFFQ69G5FAV");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "ids.bad_ulid");
  CHECK_FALSE(ids::ulid_time_ms("").ok());
}
