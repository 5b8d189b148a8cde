#pragma once
// DSSE envelopes (Dead Simple Signing Envelope, v1) as Edgeward's signed rule blobs use them
// (DESIGN §3.3): the JSON codec, the pre-authentication encoding, Ed25519 signing and checking.
//
// Rules:
//  - Parsing is strict: exactly the three fields payloadType, payload, signatures (no unknown or
//    duplicate keys), each signature exactly {keyid, sig}, keyid 16 lowercase hex digits,
//    1..kMaxSignatures signatures, strict padded standard base64, envelope at most
//    kMaxEnvelopeBytes. Anything else is refused, never guessed at.
//  - Parsing makes no trust decision: a parsed Envelope is only well-formed. Trust is
//    rules/blob.hpp's accept_blob.
//  - Every function is pure and thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/keys.hpp"

namespace edgeward::rules {

inline constexpr std::string_view kRulesPayloadType = "application/vnd.edgeward.rules.v1+json";
// More signatures than this is an attack on verification time, not a real threshold.
inline constexpr std::size_t kMaxSignatures = 16;
// A rule pack is kilobytes; this bounds what a hostile server can make us parse.
inline constexpr std::size_t kMaxEnvelopeBytes = 32 * 1024 * 1024;

struct DsseSignature {
  std::string keyid;  // 16 lowercase hex digits
  std::string sig;    // raw signature bytes (decoded; 64 for Ed25519, but not checked here)
};

struct Envelope {
  std::string payload_type;
  std::string payload;  // raw payload bytes (decoded from base64)
  std::vector<DsseSignature> signatures;
};

// DSSE's pre-authentication encoding:
// "DSSEv1" SP len(type) SP type SP len(payload) SP payload, lengths in ASCII decimal.
std::string pae(std::string_view payload_type, std::string_view payload);

// Parses an envelope's JSON. Errors (stable codes, see docs/signed-blobs.md):
//  blob.too_large       more than kMaxEnvelopeBytes
//  blob.malformed_json  not JSON, not an object, or a duplicate key anywhere in the envelope
//  blob.bad_envelope    missing/unknown/wrongly-typed field, no signatures, too many, bad keyid
//  blob.bad_base64      payload or a sig is not strict padded standard base64
// The payload type is returned as found; checking it is the caller's decision.
Result<Envelope> parse_envelope(std::string_view json);

// The envelope's JSON text: {"payloadType":…,"payload":…,"signatures":[{"keyid":…,"sig":…}]}.
std::string serialize_envelope(const Envelope& envelope);

// An Ed25519 signature over pae(type, payload) with `key`, tagged with the key's id.
DsseSignature sign_pae(std::string_view payload_type, std::string_view payload,
                       const SecretKey& key);

// True when `sig` is a valid Ed25519 signature by `key` over pae(type, payload).
bool verify_pae(std::string_view payload_type, std::string_view payload, std::string_view sig,
                const PublicKey& key);

}  // namespace edgeward::rules
