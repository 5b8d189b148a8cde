#include "core/ids.hpp"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace edgeward::ids {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) {
      // Without a CSPRNG no identifier can be made safely: this is a fatal condition.
      std::fputs("edgeward: libsodium initialisation failed\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)ready;
}

// Value of one Crockford base32 character (canonical alphabet, either case), or -1.
int crockford_value(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kCrockford[i] == c) return i;
  }
  return -1;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Process-wide ULID state: the last millisecond used and its 80-bit random part (big-endian).
struct UlidState {
  std::mutex mu;
  std::uint64_t last_ms = 0;
  std::array<unsigned char, 10> last_random{};
};

UlidState& ulid_state() {
  static UlidState state;
  return state;
}

// Adds one to an 80-bit big-endian number; false when it wrapped around to zero.
bool increment(std::array<unsigned char, 10>& n) {
  for (int i = 9; i >= 0; --i) {
    if (++n[static_cast<std::size_t>(i)] != 0) return true;
  }
  return false;
}

std::string encode_ulid(std::uint64_t ms, const std::array<unsigned char, 10>& random) {
  // 128 bits: 48 bits of time, 80 of randomness, written as 26 base32 digits (130 bits, the
  // first digit carries only 3).
  std::array<unsigned char, 16> bytes{};
  for (int i = 0; i < 6; ++i) {
    bytes[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  }
  for (std::size_t i = 0; i < 10; ++i) bytes[6 + i] = random[i];
  std::string out(26, '0');
  // Read 5 bits at a time from the 130-bit big-endian number whose top 2 bits are zero.
  for (int digit = 25; digit >= 0; --digit) {
    const int bit = (25 - digit) * 5;  // bit offset from the least-significant end
    unsigned value = 0;
    for (int b = 0; b < 5; ++b) {
      const int pos = bit + b;
      if (pos >= 128) break;
      const unsigned char byte = bytes[static_cast<std::size_t>(15 - pos / 8)];
      value |= static_cast<unsigned>((byte >> (pos % 8)) & 1u) << b;
    }
    out[static_cast<std::size_t>(digit)] = kCrockford[value];
  }
  return out;
}

}  // namespace

std::string uuid_v4() {
  ensure_sodium();
  unsigned char b[16];
  randombytes_buf(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 1 (RFC 4122)
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

std::string ulid() {
  ensure_sodium();
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::uint64_t ms = now < 0 ? 0 : static_cast<std::uint64_t>(now);
  ms &= (std::uint64_t{1} << 48) - 1;

  UlidState& st = ulid_state();
  std::lock_guard<std::mutex> lock(st.mu);
  if (ms > st.last_ms) {
    st.last_ms = ms;
    randombytes_buf(st.last_random.data(), st.last_random.size());
  } else {
    // Same millisecond (or the wall clock stepped back): keep the last time and count up, so
    // that the new ULID sorts after the previous one. If 2^80 ULIDs in one millisecond ever
    // exhaust the random part, move on to the next millisecond with fresh randomness.
    if (!increment(st.last_random)) {
      ++st.last_ms;
      randombytes_buf(st.last_random.data(), st.last_random.size());
    }
  }
  return encode_ulid(st.last_ms, st.last_random);
}

std::string event_uid() {
  return "evt_" + ulid();
}

std::string request_id() {
  return "req_" + ulid();
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
    } else if (!is_hex(text[i])) {
      return false;
    }
  }
  return true;
}

bool is_ulid(std::string_view text) {
  if (text.size() != 26) return false;
  for (char c : text) {
    if (crockford_value(c) < 0) return false;
  }
  return crockford_value(text[0]) <= 7;
}

Result<std::uint64_t> ulid_time_ms(std::string_view ulid_text) {
  if (!is_ulid(ulid_text)) {
    return make_error("ids.bad_ulid", "not a ULID (26 Crockford base32 characters)");
  }
  // The first 10 characters carry 50 bits, of which the top 2 are zero: the 48-bit time.
  std::uint64_t ms = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    ms = (ms << 5) | static_cast<std::uint64_t>(crockford_value(ulid_text[i]));
  }
  return ms;
}

}  // namespace edgeward::ids
