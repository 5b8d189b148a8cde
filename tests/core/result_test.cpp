#include "core/result.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

using edgeward::Error;
using edgeward::Result;
using edgeward::Status;

namespace {
Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error{"test.not_a_digit", "not a digit"};
  return c - '0';
}
}  // namespace

TEST_CASE("Result carries a value when the operation succeeds", "[result]") {
  auto r = parse_digit('7');
  REQUIRE(r.ok());
  CHECK(*r == 7);
  CHECK(r.value_or(-1) == 7);
}

TEST_CASE("Result carries a stable error code on bad input", "[result]") {
  auto r = parse_digit('x');
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "test.not_a_digit");
  CHECK(r.value_or(-1) == -1);
}

TEST_CASE("Status is ok by default and holds an error otherwise", "[result]") {
  Status fine;
  CHECK(fine.ok());
  Status bad = Error{"test.failed", "it failed"};
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "it failed");
}

TEST_CASE("Result moves a non-copyable value out", "[result]") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  REQUIRE(r.ok());
  auto p = std::move(r).value();
  CHECK(*p == 5);
}
