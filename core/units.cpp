#include "core/units.hpp"

#include <array>
#include <limits>

namespace edgeward::units {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads the digits at text[pos..] into value; false on uint64 overflow. pos ends past them.
bool read_uint(std::string_view text, std::size_t& pos, std::uint64_t& value) {
  value = 0;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  bool overflow = false;
  while (pos < text.size() && is_digit(text[pos])) {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (value > (kMax - digit) / 10) overflow = true;
    if (!overflow) value = value * 10 + digit;
    ++pos;
  }
  return !overflow;
}

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Duration units, largest first; a term's unit must be smaller than the previous term's.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::array<Unit, 9> kByteUnits{{
    {"B", 1},
    {"KiB", std::uint64_t{1} << 10},
    {"MiB", std::uint64_t{1} << 20},
    {"GiB", std::uint64_t{1} << 30},
    {"TiB", std::uint64_t{1} << 40},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"TB", 1'000'000'000'000},
}};

Error duration_error(const char* code, const char* message) {
  return make_error(code, message);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return duration_error("duration.empty", "empty duration");
  if (text[0] == '-') return duration_error("duration.negative", "negative duration");
  if (text == "0") return std::chrono::milliseconds{0};

  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t total = 0;
  std::size_t pos = 0;
  std::size_t last_unit = 0;  // index into kDurationUnits + 1 of the previous term's unit
  bool overflow = false;
  while (pos < text.size()) {
    if (!is_digit(text[pos])) {
      return duration_error("duration.bad_format",
                            "bad duration: expected <integer><unit> terms, unit ms, s, m, h or d");
    }
    std::uint64_t n = 0;
    if (!read_uint(text, pos, n)) overflow = true;
    if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
      return duration_error("duration.bad_format",
                            "bad duration: fractions are not accepted; write 1m30s, not 1.5m");
    }
    std::size_t end = pos;
    while (end < text.size() &&
           ((text[end] >= 'a' && text[end] <= 'z') || (text[end] >= 'A' && text[end] <= 'Z'))) {
      ++end;
    }
    const std::string_view unit_name = text.substr(pos, end - pos);
    if (unit_name.empty()) {
      return duration_error("duration.bad_format",
                            "bad duration: a unit is required; use ms, s, m, h or d");
    }
    std::size_t index = 0;
    while (index < kDurationUnits.size() && kDurationUnits[index].name != unit_name) ++index;
    if (index == kDurationUnits.size()) {
      return duration_error("duration.bad_format",
                            "bad duration: unknown unit; use ms, s, m, h or d");
    }
    if (index + 1 <= last_unit) {
      return duration_error("duration.bad_format",
                            "bad duration: units must go from largest to smallest, each once");
    }
    last_unit = index + 1;
    pos = end;
    const std::uint64_t factor = kDurationUnits[index].factor;
    if (overflow || n > kMax / factor || total > kMax - n * factor) {
      overflow = true;
    } else {
      total += n * factor;
    }
  }
  if (overflow)
    return duration_error("duration.overflow", "duration too large: beyond 2^63 milliseconds");
  return std::chrono::milliseconds{static_cast<std::int64_t>(total)};
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t count = d.count();
  if (count == 0) return "0s";
  std::string out;
  std::uint64_t rest;
  if (count < 0) {
    out.push_back('-');
    rest = static_cast<std::uint64_t>(-(count + 1)) + 1;  // no overflow for INT64_MIN
  } else {
    rest = static_cast<std::uint64_t>(count);
  }
  for (const Unit& u : kDurationUnits) {
    if (rest >= u.factor) {
      out += std::to_string(rest / u.factor);
      out += u.name;
      rest %= u.factor;
    }
  }
  return out;
}

Result<std::uint64_t> parse_byte_size(std::string_view text) {
  if (text.empty()) return make_error("bytes.empty", "empty byte size");
  if (text[0] == '-') return make_error("bytes.negative", "negative byte size");
  if (!is_digit(text[0])) {
    return make_error("bytes.bad_format", "bad byte size: expected <integer>[unit]");
  }
  std::size_t pos = 0;
  std::uint64_t n = 0;
  const bool fits = read_uint(text, pos, n);
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    return make_error("bytes.bad_format",
                      "bad byte size: fractions are not accepted; write 1536KiB, not 1.5MiB");
  }
  const std::string_view unit_name = text.substr(pos);
  std::uint64_t factor = 1;
  if (!unit_name.empty()) {
    std::size_t index = 0;
    while (index < kByteUnits.size() && kByteUnits[index].name != unit_name) ++index;
    if (index == kByteUnits.size()) {
      return make_error("bytes.bad_format",
                        "bad byte size: unknown unit; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB");
    }
    factor = kByteUnits[index].factor;
  }
  if (!fits || n > std::numeric_limits<std::uint64_t>::max() / factor) {
    return make_error("bytes.overflow", "byte size too large: beyond 64 bits");
  }
  return n * factor;
}

std::string format_byte_size(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  static constexpr std::array<Unit, 5> kBinary{{
      {"TiB", std::uint64_t{1} << 40},
      {"GiB", std::uint64_t{1} << 30},
      {"MiB", std::uint64_t{1} << 20},
      {"KiB", std::uint64_t{1} << 10},
      {"B", 1},
  }};
  for (const Unit& u : kBinary) {
    if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + std::string(u.name);
  }
  return std::to_string(bytes) + "B";
}

}  // namespace edgeward::units
