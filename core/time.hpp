#pragma once
// Time stamps: RFC 3339 UTC with milliseconds, as every Edgeward wire format and store uses.

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::timefmt {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;

// The current wall-clock time, truncated to milliseconds.
TimePoint now();

// "2026-11-23T00:48:38.123Z": always UTC, always three fraction digits.
std::string format_rfc3339(TimePoint t);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (also 't'/'z' and a space separator).
// Fractions beyond milliseconds are truncated. Errors: "time.bad_format" for junk,
// "time.out_of_range" for impossible fields (month 13, Feb 30, hour 24, leap seconds).
Result<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace edgeward::timefmt
