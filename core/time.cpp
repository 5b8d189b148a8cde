#include "core/time.hpp"

#include <cstdio>

namespace edgeward::timefmt {
namespace {

using namespace std::chrono;

Error bad_format(const char* what) {
  return make_error("time.bad_format", std::string("not an RFC 3339 time stamp: ") + what);
}
Error out_of_range(const char* what) {
  return make_error("time.out_of_range", std::string("RFC 3339 time stamp out of range: ") + what);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly n digits at text[pos..]; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

TimePoint now() {
  return floor<milliseconds>(system_clock::now());
}

std::string format_rfc3339(TimePoint t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> tod{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                static_cast<int>(tod.subseconds().count()));
  return buf;
}

Result<TimePoint> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS  (19 characters), then [.fraction], then Z or ±HH:MM.
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.empty()) return bad_format("empty");
  if (!read_digits(text, 0, 4, y) || text.size() < 19 || text[4] != '-' ||
      !read_digits(text, 5, 2, mo) || text[7] != '-' || !read_digits(text, 8, 2, d)) {
    return bad_format("expected YYYY-MM-DD");
  }
  const char sep = text[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return bad_format("expected 'T' after the date");
  if (!read_digits(text, 11, 2, h) || text[13] != ':' || !read_digits(text, 14, 2, mi) ||
      text[16] != ':' || !read_digits(text, 17, 2, s)) {
    return bad_format("expected HH:MM:SS");
  }
  std::size_t pos = 19;
  int ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      const std::size_t nth = pos - start;  // 0-based fraction digit
      if (nth < 3) ms = ms * 10 + (text[pos] - '0');
      ++pos;
    }
    const std::size_t digits = pos - start;
    if (digits == 0) return bad_format("expected digits after '.'");
    for (std::size_t i = digits; i < 3; ++i) ms *= 10;
  }
  if (pos >= text.size()) return bad_format("missing time zone offset (Z or +HH:MM)");
  int offset_minutes = 0;
  const char z = text[pos];
  if (z == 'Z' || z == 'z') {
    ++pos;
  } else if (z == '+' || z == '-') {
    int oh = 0, om = 0;
    if (!read_digits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_digits(text, pos + 4, 2, om)) {
      return bad_format("expected a ±HH:MM offset");
    }
    if (oh > 23 || om > 59) return out_of_range("offset");
    offset_minutes = (oh * 60 + om) * (z == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad_format("expected Z or ±HH:MM");
  }
  if (pos != text.size()) return bad_format("trailing characters");

  if (mo < 1 || mo > 12) return out_of_range("month");
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (d < 1 || !ymd.ok()) return out_of_range("day of month");
  if (h > 23) return out_of_range("hour");
  if (mi > 59) return out_of_range("minute");
  if (s > 59) return out_of_range("second (leap seconds are not accepted)");

  TimePoint t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
  t -= minutes{offset_minutes};
  return t;
}

}  // namespace edgeward::timefmt
