#include "rules/blob.hpp"

#include <simdjson.h>
#include <sodium.h>

#include <set>
#include <utility>

#include "core/json.hpp"

namespace edgeward::rules {
namespace {

Error bad_payload(std::string message) {
  return make_error("blob.bad_payload", std::move(message));
}

// RFC 3339 in UTC only ("…Z"): what we write, and all we accept, so that two gateways can never
// read one time stamp differently.
Result<timefmt::TimePoint> parse_utc_time(std::string_view text, std::string_view field) {
  if (text.empty() || text.back() != 'Z') {
    return bad_payload(std::string(field) + " is not an RFC 3339 UTC time ending in Z");
  }
  auto t = timefmt::parse_rfc3339(text);
  if (!t) return bad_payload(std::string(field) + " is not an RFC 3339 UTC time");
  return *t;
}

// ---- signatures ---------------------------------------------------------------------------

Status check_trust_policy(const TrustPolicy& trust) {
  if (trust.keys.empty()) return make_error("blob.no_trusted_keys", "no trusted keys configured");
  std::set<std::string> distinct;
  for (const auto& k : trust.keys) distinct.insert(key_id(k));
  if (trust.threshold == 0 || trust.threshold > distinct.size()) {
    return make_error("blob.no_trusted_keys",
                      "signature threshold " + std::to_string(trust.threshold) +
                          " cannot be met by " + std::to_string(distinct.size()) +
                          " distinct trusted keys");
  }
  return ok_status();
}

// Counts distinct trusted keys with a valid signature; decides the signature refusal if short.
Result<std::vector<std::string>> check_signatures(const Envelope& env, const TrustPolicy& trust) {
  if (auto st = check_trust_policy(trust); !st) return st.error();
  std::set<std::string> valid;  // key ids of trusted keys that signed validly
  bool any_trusted_tag = false;
  bool any_bad = false;
  for (const auto& sig : env.signatures) {
    bool tagged = false;
    bool ok = false;
    // Several trusted keys could share a key id only by a 64-bit collision; try each.
    for (const auto& key : trust.keys) {
      if (key_id(key) != sig.keyid) continue;
      tagged = true;
      if (verify_pae(env.payload_type, env.payload, sig.sig, key)) {
        ok = true;
        break;
      }
    }
    any_trusted_tag |= tagged;
    if (ok) {
      valid.insert(sig.keyid);  // the same key signing twice counts once
    } else if (tagged) {
      any_bad = true;
    }
  }
  if (valid.size() >= trust.threshold) return std::vector<std::string>(valid.begin(), valid.end());
  if (any_bad) {
    return make_error("blob.bad_signature", "a signature by a trusted key does not verify");
  }
  if (!any_trusted_tag) {
    return make_error("blob.unknown_key", "no signature is by a trusted key");
  }
  return make_error("blob.threshold_not_met", std::to_string(valid.size()) +
                                                  " distinct trusted key(s) signed, " +
                                                  std::to_string(trust.threshold) + " required");
}

Result<Envelope> parse_rules_envelope(std::string_view envelope_json) {
  auto env = parse_envelope(envelope_json);
  if (!env) return env.error();
  if (env->payload_type != kRulesPayloadType) {
    return make_error("blob.wrong_payload_type",
                      "payloadType is not " + std::string(kRulesPayloadType));
  }
  return env;
}

}  // namespace

std::string serialize_blob_payload(const BlobPayload& payload) {
  std::string out;
  out.reserve(payload.pack_json.size() + 160);
  out += "{\"format\":";
  json::append_json_number(out, static_cast<std::int64_t>(kBlobFormat));
  out += ",\"tenant_id\":";
  json::append_json_string(out, payload.tenant_id);
  out += ",\"version\":";
  json::append_json_number(out, payload.version);
  out += ",\"created_at\":";
  json::append_json_string(out, timefmt::format_rfc3339(payload.created_at));
  out += ",\"expires_at\":";
  json::append_json_string(out, timefmt::format_rfc3339(payload.expires_at));
  out += ",\"pack\":";
  out += payload.pack_json;
  out += "}";
  return out;
}

Result<BlobPayload> parse_blob_payload(std::string_view payload) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(payload);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root)) return bad_payload("payload is not valid JSON");
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return bad_payload("payload is not a JSON object");

  BlobPayload out;
  std::set<std::string_view> seen;
  std::optional<std::int64_t> format;
  bool have_tenant = false, have_version = false, have_created = false, have_expires = false,
       have_pack = false;
  for (auto field : obj) {
    const std::string_view key = field.key;
    if (!seen.insert(key).second) return bad_payload("duplicate key in payload");
    const simdjson::dom::element value = field.value;
    if (key == "format") {
      std::int64_t f = 0;
      if (value.get_int64().get(f)) return bad_payload("format is not an integer");
      format = f;
    } else if (key == "tenant_id") {
      std::string_view s;
      if (value.get_string().get(s)) return bad_payload("tenant_id is not a string");
      if (s.empty()) return bad_payload("tenant_id is empty");
      out.tenant_id = std::string(s);
      have_tenant = true;
    } else if (key == "version") {
      // Integers only: 4521.0 or "4521" are refused, not coerced.
      if (!value.is_int64() && !value.is_uint64()) return bad_payload("version is not an integer");
      std::int64_t v = 0;
      if (value.get_int64().get(v) || v <= 0) {
        return bad_payload("version must be between 1 and 2^63-1");
      }
      out.version = static_cast<std::uint64_t>(v);
      have_version = true;
    } else if (key == "created_at" || key == "expires_at") {
      std::string_view s;
      if (value.get_string().get(s)) return bad_payload(std::string(key) + " is not a string");
      auto t = parse_utc_time(s, key);
      if (!t) return t.error();
      (key == "created_at" ? out.created_at : out.expires_at) = *t;
      (key == "created_at" ? have_created : have_expires) = true;
    } else if (key == "pack") {
      if (!value.is_object()) return bad_payload("pack is not an object");
      out.pack_json = simdjson::to_string(value);
      have_pack = true;
    } else {
      return bad_payload("payload has an unknown field");
    }
  }
  if (!format) return bad_payload("format is missing");
  if (*format != kBlobFormat) {
    return make_error("blob.unsupported_format",
                      "payload format " + std::to_string(*format) + " is not supported (1 is)");
  }
  if (!have_tenant) return bad_payload("tenant_id is missing");
  if (!have_version) return bad_payload("version is missing");
  if (!have_created) return bad_payload("created_at is missing");
  if (!have_expires) return bad_payload("expires_at is missing");
  if (!have_pack) return bad_payload("pack is missing");
  if (out.expires_at <= out.created_at) return bad_payload("expires_at is not after created_at");
  return out;
}

Result<Pack> load_blob_pack(std::string_view pack_json) {
  auto pack = parse_pack(pack_json, "<blob>");
  if (!pack) return make_error("blob.bad_pack", pack.error().message);
  return pack;
}

std::string sign_blob(const BlobPayload& payload, const std::vector<const SecretKey*>& keys) {
  Envelope env;
  env.payload_type = std::string(kRulesPayloadType);
  env.payload = serialize_blob_payload(payload);
  for (const SecretKey* key : keys) {
    env.signatures.push_back(sign_pae(env.payload_type, env.payload, *key));
  }
  return serialize_envelope(env);
}

std::string sha256_hex(std::string_view bytes) {
  ensure_sodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, 2 * crypto_hash_sha256_BYTES);
}

Result<AcceptedBlob> accept_blob(const std::optional<ActiveBlob>& active,
                                 std::string_view envelope_json, const TrustPolicy& trust,
                                 const std::optional<std::string>& enrolled_tenant,
                                 timefmt::TimePoint now) {
  auto env = parse_rules_envelope(envelope_json);
  if (!env) return env.error();
  auto signers = check_signatures(*env, trust);
  if (!signers) return signers.error();
  auto payload = parse_blob_payload(env->payload);
  if (!payload) return payload.error();

  if (enrolled_tenant && payload->tenant_id != *enrolled_tenant) {
    // Tenant ids are identifiers, not secrets: naming them makes the refusal actionable.
    return make_error("blob.wrong_tenant", "blob is for tenant '" + payload->tenant_id +
                                               "', this gateway is enrolled in '" +
                                               *enrolled_tenant + "'");
  }

  AcceptedBlob accepted;
  accepted.payload_sha256 = sha256_hex(env->payload);
  if (active) {
    if (payload->version < active->version) {
      return make_error("blob.rollback", "blob version " + std::to_string(payload->version) +
                                             " is lower than the active version " +
                                             std::to_string(active->version));
    }
    if (payload->version == active->version) {
      if (accepted.payload_sha256 != active->payload_sha256) {
        return make_error("blob.version_conflict", "blob version " +
                                                       std::to_string(payload->version) +
                                                       " is active with different content");
      }
      accepted.idempotent_noop = true;
    }
  }
  if (!accepted.idempotent_noop && payload->expires_at <= now) {
    return make_error("blob.expired",
                      "blob expired at " + timefmt::format_rfc3339(payload->expires_at));
  }
  accepted.payload = std::move(payload).value();
  accepted.envelope_sha256 = sha256_hex(envelope_json);
  accepted.signer_key_ids = std::move(signers).value();
  return accepted;
}

Result<UnverifiedBlob> read_blob_unverified(std::string_view envelope_json) {
  auto env = parse_rules_envelope(envelope_json);
  if (!env) return env.error();
  auto payload = parse_blob_payload(env->payload);
  if (!payload) return payload.error();
  UnverifiedBlob out;
  out.payload = std::move(payload).value();
  out.payload_sha256 = sha256_hex(env->payload);
  for (const auto& s : env->signatures) out.key_ids.push_back(s.keyid);
  return out;
}

bool is_envelope(std::string_view text) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::object obj;
  if (parser.parse(padded).get_object().get(obj)) return false;
  for (auto field : obj) {
    if (field.key == "payloadType") return true;
  }
  return false;
}

}  // namespace edgeward::rules
