#pragma once
// Human-written quantities in config files and CLI flags: durations and byte sizes.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::units {

// Durations: one or more <integer><unit> terms, unit in ms, s, m, h, d (e.g. "250ms", "10s",
// "5m", "30d", "1h30m"). A bare "0" is zero. Errors: "duration.empty", "duration.bad_format"
// (junk, missing unit, fractions, spaces, upper-case units, units out of order or repeated:
// terms go from the largest unit to the smallest, each unit once), "duration.negative",
// "duration.overflow" (beyond int64 ms).
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact form: 90000ms -> "1m30s", 0 -> "0s".
std::string format_duration(std::chrono::milliseconds d);

// Byte sizes: <integer>[unit] with unit B, KiB, MiB, GiB, TiB (binary) or KB, MB, GB, TB
// (decimal); no unit means bytes; units are case-sensitive and follow the number without a
// space. Errors: "bytes.empty", "bytes.bad_format", "bytes.negative",
// "bytes.overflow" (beyond uint64).
Result<std::uint64_t> parse_byte_size(std::string_view text);

// The largest binary unit that divides exactly: 8388608 -> "8MiB", 1000 -> "1000B".
std::string format_byte_size(std::uint64_t bytes);

}  // namespace edgeward::units
