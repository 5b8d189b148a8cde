#pragma once
// Identifiers: UUIDv4 and ULIDs from libsodium's CSPRNG.
//
// Rules:
//  - Every function is thread-safe. ULIDs are monotonic process-wide: two ULIDs made in the same
//    millisecond compare (as strings) in the order they were made.
//  - libsodium must be initialised (sodium_init) before first use; these functions do it once.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::ids {

// A random (version 4, variant 1) UUID, lowercase canonical form "xxxxxxxx-xxxx-4xxx-yxxx-…".
std::string uuid_v4();

// A 26-character Crockford base32 ULID: 48-bit Unix ms time, then 80 random bits. Within one
// millisecond the random part is incremented so that order is kept.
std::string ulid();

// "evt_" + ULID: the idempotency key of an event (DESIGN §4).
std::string event_uid();
// "req_" + ULID: shared by the events of one request (DESIGN §4).
std::string request_id();

// True for the canonical lowercase-or-uppercase 8-4-4-4-12 hex form (any version).
bool is_uuid(std::string_view text);
// True for 26 Crockford base32 characters whose first is 0–7 (fits 128 bits).
bool is_ulid(std::string_view text);

// The Unix milliseconds a ULID encodes; error "ids.bad_ulid" when it is not one.
Result<std::uint64_t> ulid_time_ms(std::string_view ulid_text);

}  // namespace edgeward::ids
