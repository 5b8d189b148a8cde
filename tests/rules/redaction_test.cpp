#include <catch2/catch.hpp>

#include <string>

#include "rules/redaction.hpp"

using namespace edgeward::rules;

namespace {
Finding f(std::uint64_t start, std::uint64_t end, std::string_view code,
          std::int32_t priority = 100) {
  Finding x;
  x.start = start;
  x.end = end;
  x.reason_code = code;
  x.priority = priority;
  return x;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}
}  // namespace

TEST_CASE("a span is replaced by [REDACTED:<reason code>]") {
  std::vector<Finding> fs{f(7, 34, "DLP.PII.IBAN")};
  CHECK(redact("pay to DE89 3704 0044 0532 0130 00 today", fs) ==
        "pay to [REDACTED:DLP.PII.IBAN] today");
}

TEST_CASE("spans inside multi-byte characters snap outward to code point boundaries") {
  std::string text = "x\xC3\xA9y\xE2\x82\xACz";  // "xéy€z"
  // Start in the middle of é, end in the middle of €.
  std::vector<Finding> fs{f(2, 5, "POLICY.CUSTOM")};
  std::string out = redact(text, fs);
  CHECK(out == "x[REDACTED:POLICY.CUSTOM]z");
  CHECK(valid_utf8(out));
}

TEST_CASE("redacting every possible span of a UTF-8 text keeps it valid UTF-8") {
  std::string text = "na\xC3\xAFve \xF0\x9F\x98\x80 caf\xC3\xA9 \xE2\x82\xAC 5";
  for (std::size_t s = 0; s < text.size(); ++s) {
    for (std::size_t e = s + 1; e <= text.size(); ++e) {
      std::vector<Finding> fs{f(s, e, "X.Y")};
      INFO(s << ".." << e);
      CHECK(valid_utf8(redact(text, fs)));
    }
  }
}

TEST_CASE("overlapping spans merge and take the longest member's code") {
  std::vector<Finding> fs{f(0, 4, "SHORT.A"), f(2, 12, "LONG.B"), f(11, 14, "SHORT.C")};
  CHECK(redact("0123456789abcdef", fs) == "[REDACTED:LONG.B]ef");
  auto plan = plan_redactions("0123456789abcdef", fs);
  REQUIRE(plan.size() == 1);
  CHECK(plan[0].start == 0);
  CHECK(plan[0].end == 14);
}

TEST_CASE("touching spans stay apart, equal spans prefer the lower priority") {
  std::vector<Finding> fs{f(0, 3, "A.A"), f(3, 6, "B.B")};
  CHECK(redact("abcdefg", fs) == "[REDACTED:A.A][REDACTED:B.B]g");
  std::vector<Finding> same{f(0, 3, "LATE.X", 50), f(0, 3, "EARLY.Y", 10)};
  CHECK(redact("abcd", same) == "[REDACTED:EARLY.Y]d");
}

TEST_CASE("a window of a stream redacts with absolute offsets and clips at its edges") {
  std::vector<Finding> fs{f(100, 104, "A.A"), f(108, 120, "B.B")};
  CHECK(redact("wxyzabcdefgh", fs, 100) == "[REDACTED:A.A]abcd[REDACTED:B.B]");
  CHECK(redact("zzzz", fs, 200) == "zzzz");
}
