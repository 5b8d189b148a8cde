#pragma once
// Signed rule blobs (DESIGN §3.3): the payload codec, signing, and the gateway's acceptance
// rules as one pure function. Format, codes and key handling: docs/signed-blobs.md.
//
// Rules:
//  - accept_blob is the only way to trust a blob. It is pure (no clock, no I/O, no globals): the
//    caller passes the active state, the trusted keys, the enrolled tenant and `now`. A refusal
//    is an Error whose `code` is one of the stable "blob.*" codes below; the daemon puts that
//    code in logs, /metrics and /status, and keeps its active rules.
//  - read_blob_unverified decodes a blob WITHOUT any trust decision, for `edgeward scan --rules
//    BLOB` and `edgeward rules show`. Never use it to decide what a gateway enforces.
//  - Idempotence is decided on the SHA-256 of the payload bytes (what was signed), not of the
//    envelope: the same payload re-signed by another key is the same rule set.
//  - Every function is thread-safe. Messages never contain key bytes or payload content.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "rules/dsse.hpp"
#include "rules/keys.hpp"
#include "rules/pack.hpp"

namespace edgeward::rules {

inline constexpr int kBlobFormat = 1;

// The signed payload: {"format":1,"tenant_id":…,"version":N,"created_at":…Z,"expires_at":…Z,
// "pack":{…}} in exactly that key order when we write it.
struct BlobPayload {
  std::string tenant_id;
  std::uint64_t version = 0;  // 1 … 2^63-1 (fits the store's INTEGER)
  timefmt::TimePoint created_at{};
  timefmt::TimePoint expires_at{};
  std::string pack_json;  // the normalized pack: pack_to_json() of rules/pack.hpp
};

// The payload's JSON bytes (what gets signed).
std::string serialize_blob_payload(const BlobPayload& payload);

// Parses payload bytes. Errors:
//  blob.unsupported_format  "format" is present but not 1
//  blob.bad_payload         not a JSON object, duplicate/unknown/missing field, wrong type,
//                           version 0 or beyond int64, times not RFC 3339 UTC ("…Z"),
//                           expires_at not after created_at, pack not an object
Result<BlobPayload> parse_blob_payload(std::string_view payload);

// Loads the pack an accepted (or unverified) blob carries with the rule-pack loader
// (rules/pack.hpp). Error "blob.bad_pack" (the message lists every loader problem): a validly
// signed blob whose pack does not load is refused like any other bad blob.
Result<Pack> load_blob_pack(std::string_view pack_json);

// The envelope JSON of `payload`, signed by each key in order.
std::string sign_blob(const BlobPayload& payload, const std::vector<const SecretKey*>& keys);

// Lowercase hex SHA-256.
std::string sha256_hex(std::string_view bytes);

// What the gateway currently enforces from a blob.
struct ActiveBlob {
  std::uint64_t version = 0;
  std::string payload_sha256;  // AcceptedBlob::payload_sha256 of the active blob
};

// Who may sign: a blob needs valid signatures from at least `threshold` distinct keys of `keys`.
struct TrustPolicy {
  std::vector<PublicKey> keys;
  std::size_t threshold = 1;
};

struct AcceptedBlob {
  BlobPayload payload;                      // version, tenant, expiry, pack_json
  std::string payload_sha256;               // hex; becomes ActiveBlob::payload_sha256
  std::string envelope_sha256;              // hex of the envelope bytes as received (cache keys)
  std::vector<std::string> signer_key_ids;  // distinct trusted keys with a valid signature
  // Same version and same payload SHA-256 as the active blob: nothing to do. Expiry is not
  // checked for a no-op (the active set stays active either way; staleness is the caller's).
  bool idempotent_noop = false;
};

// The acceptance rules of DESIGN §3.3, checked in this order; the first failure is the refusal:
//  1. blob.too_large, blob.malformed_json, blob.bad_envelope, blob.bad_base64  (parse_envelope)
//  2. blob.wrong_payload_type    payloadType is not kRulesPayloadType
//  3. blob.no_trusted_keys       the policy has no keys, or threshold 0 / above the key count
//     blob.bad_signature         a signature tagged with a trusted key's id does not verify
//                                (and the threshold is not met by the others)
//     blob.unknown_key           no signature is tagged with a trusted key's id
//     blob.threshold_not_met     fewer distinct trusted keys than the threshold signed
//  4. blob.unsupported_format, blob.bad_payload  (parse_blob_payload; only after signatures:
//                                unauthenticated bytes are not parsed further than needed)
//  5. blob.wrong_tenant          `enrolled_tenant` is set and differs from tenant_id
//  6. blob.rollback              version lower than the active one
//     blob.version_conflict      same version, different payload SHA-256
//     (same version, same SHA-256 → accepted with idempotent_noop = true)
//  7. blob.expired               expires_at <= now
// `active` is empty when nothing is enforced from a blob yet; `enrolled_tenant` is empty for a
// standalone gateway (any tenant accepted).
Result<AcceptedBlob> accept_blob(const std::optional<ActiveBlob>& active,
                                 std::string_view envelope_json, const TrustPolicy& trust,
                                 const std::optional<std::string>& enrolled_tenant,
                                 timefmt::TimePoint now);

// A blob decoded WITHOUT checking signatures, tenant, version or expiry. Errors as steps 1, 2 and
// 4 of accept_blob.
struct UnverifiedBlob {
  BlobPayload payload;
  std::string payload_sha256;
  std::vector<std::string> key_ids;  // as claimed by the envelope, not checked
};
Result<UnverifiedBlob> read_blob_unverified(std::string_view envelope_json);

// True when `text` is a JSON object with a top-level "payloadType" member: a DSSE envelope,
// possibly a broken one whose error read_blob_unverified then names. Tells a blob file from a
// YAML/JSON pack file (`scan --rules FILE`).
bool is_envelope(std::string_view text);

}  // namespace edgeward::rules
