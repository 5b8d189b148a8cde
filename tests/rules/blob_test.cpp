// Signed rule blobs: every acceptance rule of DESIGN §3.3 and its refusal code
// (docs/signed-blobs.md), plus the payload codec and pack normalization.

#include "rules/blob.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "rules/dsse.hpp"
#include "rules/keys.hpp"

using namespace edgeward;
using namespace edgeward::rules;
using namespace std::chrono_literals;

namespace {

timefmt::TimePoint at(const char* text) {
  return timefmt::parse_rfc3339(text).value();
}

const timefmt::TimePoint kNow = at("2026-06-01T00:00:00.000Z");
constexpr const char* kPackJson =
    R"({"apiVersion":"edgeward/v1","kind":"RulePack","name":"t","rules":[]})";

struct BlobFixture {
  SecretKey a = generate_secret_key();
  SecretKey b = generate_secret_key();
  SecretKey stranger = generate_secret_key();

  BlobPayload payload(std::uint64_t version = 10, const char* tenant = "tenant-1") const {
    BlobPayload p;
    p.tenant_id = tenant;
    p.version = version;
    p.created_at = kNow - 1h;
    p.expires_at = kNow + 24h * 30;
    p.pack_json = kPackJson;
    return p;
  }
  TrustPolicy trust_a() const { return TrustPolicy{{a.public_key()}, 1}; }
  TrustPolicy trust_ab(std::size_t threshold) const {
    return TrustPolicy{{a.public_key(), b.public_key()}, threshold};
  }
  std::string blob(const BlobPayload& p) const { return sign_blob(p, {&a}); }
  std::string blob() const { return blob(payload()); }
};

// Parses, edits and re-serializes an envelope, for tampering.
template <class Edit>
std::string tamper(const std::string& envelope_json, Edit edit) {
  Envelope env = parse_envelope(envelope_json).value();
  edit(env);
  return serialize_envelope(env);
}

std::string refusal(const Result<AcceptedBlob>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().code;
}

// An envelope whose payload is `payload_bytes`, validly signed by `key`.
std::string signed_raw_payload(const std::string& payload_bytes, const SecretKey& key) {
  Envelope env;
  env.payload_type = std::string(kRulesPayloadType);
  env.payload = payload_bytes;
  env.signatures.push_back(sign_pae(env.payload_type, env.payload, key));
  return serialize_envelope(env);
}

}  // namespace

TEST_CASE("pae is DSSE's pre-authentication encoding with decimal lengths", "[blob]") {
  CHECK(pae("http://example.com/HelloWorld", "hello world") ==
        "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(pae("", "") == "DSSEv1 0  0 ");
}

TEST_CASE_METHOD(BlobFixture, "a blob signed by a trusted key is accepted with its payload",
                 "[blob]") {
  const std::string env = blob();
  auto r = accept_blob(std::nullopt, env, trust_a(), std::string("tenant-1"), kNow);
  REQUIRE(r.ok());
  CHECK(r->payload.version == 10);
  CHECK(r->payload.tenant_id == "tenant-1");
  CHECK(r->payload.pack_json == kPackJson);
  CHECK(r->payload.expires_at == kNow + 24h * 30);
  CHECK_FALSE(r->idempotent_noop);
  CHECK(r->signer_key_ids == std::vector<std::string>{key_id(a.public_key())});
  CHECK(r->payload_sha256 == sha256_hex(parse_envelope(env).value().payload));
  CHECK(r->envelope_sha256 == sha256_hex(env));
  CHECK(r->payload_sha256.size() == 64);
}

TEST_CASE_METHOD(BlobFixture, "the signed payload has the documented keys in order", "[blob]") {
  CHECK(serialize_blob_payload(payload()) ==
        std::string(R"({"format":1,"tenant_id":"tenant-1","version":10,)") +
            R"("created_at":"2026-05-31T23:00:00.000Z","expires_at":"2026-07-01T00:00:00.000Z",)" +
            R"("pack":)" + kPackJson + "}");
}

TEST_CASE_METHOD(BlobFixture, "a standalone gateway accepts any tenant", "[blob]") {
  auto r = accept_blob(std::nullopt, blob(payload(10, "other")), trust_a(), std::nullopt, kNow);
  REQUIRE(r.ok());
  CHECK(r->payload.tenant_id == "other");
}

TEST_CASE_METHOD(BlobFixture, "a higher version than the active one is accepted", "[blob]") {
  auto r = accept_blob(ActiveBlob{9, std::string(64, '0')}, blob(), trust_a(), std::nullopt, kNow);
  REQUIRE(r.ok());
  CHECK_FALSE(r->idempotent_noop);
}

TEST_CASE_METHOD(BlobFixture, "a flipped payload byte is refused as blob.bad_signature", "[blob]") {
  const std::string env = tamper(blob(), [](Envelope& e) { e.payload[20] ^= 0x01; });
  CHECK(refusal(accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow)) ==
        "blob.bad_signature");
}

TEST_CASE_METHOD(BlobFixture, "a flipped signature byte is refused as blob.bad_signature",
                 "[blob]") {
  const std::string env = tamper(blob(), [](Envelope& e) { e.signatures[0].sig[7] ^= 0x80; });
  CHECK(refusal(accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow)) ==
        "blob.bad_signature");
}

TEST_CASE_METHOD(BlobFixture, "a signature of the wrong length is refused as blob.bad_signature",
                 "[blob]") {
  const std::string env = tamper(blob(), [](Envelope& e) { e.signatures[0].sig.resize(63); });
  CHECK(refusal(accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow)) ==
        "blob.bad_signature");
}

TEST_CASE_METHOD(BlobFixture, "a changed payloadType breaks the signature", "[blob]") {
  // The type is inside the PAE: relabelling a validly signed payload must not verify. (The type
  // check itself comes first, so relabel to the right type from a different one.)
  Envelope e;
  e.payload_type = "application/vnd.other+json";
  e.payload = serialize_blob_payload(payload());
  e.signatures.push_back(sign_pae(e.payload_type, e.payload, a));
  e.payload_type = std::string(kRulesPayloadType);
  CHECK(refusal(accept_blob(std::nullopt, serialize_envelope(e), trust_a(), std::nullopt, kNow)) ==
        "blob.bad_signature");
}

TEST_CASE_METHOD(BlobFixture, "a blob signed only by an untrusted key is blob.unknown_key",
                 "[blob]") {
  const std::string env = sign_blob(payload(), {&stranger});
  CHECK(refusal(accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow)) ==
        "blob.unknown_key");
}

TEST_CASE_METHOD(BlobFixture, "one valid key of two required is blob.threshold_not_met", "[blob]") {
  const std::string env = sign_blob(payload(), {&a, &stranger});
  CHECK(refusal(accept_blob(std::nullopt, env, trust_ab(2), std::nullopt, kNow)) ==
        "blob.threshold_not_met");
}

TEST_CASE_METHOD(BlobFixture, "the same key signing twice counts once toward the threshold",
                 "[blob]") {
  const std::string env = sign_blob(payload(), {&a, &a});
  CHECK(refusal(accept_blob(std::nullopt, env, trust_ab(2), std::nullopt, kNow)) ==
        "blob.threshold_not_met");
}

TEST_CASE_METHOD(BlobFixture, "two distinct trusted keys meet a threshold of two", "[blob]") {
  auto r =
      accept_blob(std::nullopt, sign_blob(payload(), {&b, &a}), trust_ab(2), std::nullopt, kNow);
  REQUIRE(r.ok());
  CHECK(r->signer_key_ids.size() == 2);
}

TEST_CASE_METHOD(BlobFixture, "a bad extra signature does not matter once the threshold is met",
                 "[blob]") {
  const std::string env =
      tamper(sign_blob(payload(), {&a, &b}), [](Envelope& e) { e.signatures[1].sig[0] ^= 1; });
  CHECK(accept_blob(std::nullopt, env, trust_ab(1), std::nullopt, kNow).ok());
  CHECK(refusal(accept_blob(std::nullopt, env, trust_ab(2), std::nullopt, kNow)) ==
        "blob.bad_signature");
}

TEST_CASE_METHOD(BlobFixture, "a trust policy that cannot be met is blob.no_trusted_keys",
                 "[blob]") {
  CHECK(refusal(accept_blob(std::nullopt, blob(), TrustPolicy{{}, 1}, std::nullopt, kNow)) ==
        "blob.no_trusted_keys");
  CHECK(refusal(accept_blob(std::nullopt, blob(), TrustPolicy{{a.public_key()}, 0}, std::nullopt,
                            kNow)) == "blob.no_trusted_keys");
  // The same key listed twice is one distinct key.
  CHECK(refusal(accept_blob(std::nullopt, blob(), TrustPolicy{{a.public_key(), a.public_key()}, 2},
                            std::nullopt, kNow)) == "blob.no_trusted_keys");
}

TEST_CASE_METHOD(BlobFixture, "a blob for another tenant is blob.wrong_tenant", "[blob]") {
  CHECK(refusal(accept_blob(std::nullopt, blob(payload(10, "tenant-2")), trust_a(),
                            std::string("tenant-1"), kNow)) == "blob.wrong_tenant");
}

TEST_CASE_METHOD(BlobFixture, "a lower version than the active one is blob.rollback", "[blob]") {
  CHECK(refusal(accept_blob(ActiveBlob{11, std::string(64, '0')}, blob(), trust_a(), std::nullopt,
                            kNow)) == "blob.rollback");
}

TEST_CASE_METHOD(BlobFixture, "the active version with different content is blob.version_conflict",
                 "[blob]") {
  const auto active = accept_blob(std::nullopt, blob(), trust_a(), std::nullopt, kNow).value();
  BlobPayload other = payload();
  other.pack_json = R"({"apiVersion":"edgeward/v1","kind":"RulePack","name":"u","rules":[]})";
  CHECK(refusal(accept_blob(ActiveBlob{10, active.payload_sha256}, blob(other), trust_a(),
                            std::nullopt, kNow)) == "blob.version_conflict");
}

TEST_CASE_METHOD(BlobFixture, "the active version with the same content is an idempotent no-op",
                 "[blob]") {
  const std::string env = blob();
  const auto first = accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow).value();
  // Re-signed by another trusted key: a different envelope, the same payload.
  const std::string resigned = sign_blob(payload(), {&b});
  for (const std::string* e : {&env, &resigned}) {
    auto again =
        accept_blob(ActiveBlob{10, first.payload_sha256}, *e, trust_ab(1), std::nullopt, kNow);
    REQUIRE(again.ok());
    CHECK(again->idempotent_noop);
    CHECK(again->payload_sha256 == first.payload_sha256);
  }
}

TEST_CASE_METHOD(BlobFixture, "a blob past expires_at is blob.expired", "[blob]") {
  BlobPayload p = payload();
  p.created_at = kNow - 48h;
  p.expires_at = kNow - 1s;
  CHECK(refusal(accept_blob(std::nullopt, blob(p), trust_a(), std::nullopt, kNow)) ==
        "blob.expired");
  p.expires_at = kNow;  // expiring at `now` is already expired
  CHECK(refusal(accept_blob(std::nullopt, blob(p), trust_a(), std::nullopt, kNow)) ==
        "blob.expired");
}

TEST_CASE_METHOD(BlobFixture, "malformed base64 in the payload is blob.bad_base64", "[blob]") {
  std::string env = blob();
  const auto pos = env.find("\"payload\":\"") + 11;
  env.insert(pos, "!");
  CHECK(refusal(accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow)) ==
        "blob.bad_base64");
}

TEST_CASE("base64 decoding is strict", "[blob]") {
  CHECK(base64_decode("aGVsbG8=").value() == "hello");
  CHECK(base64_decode("").value().empty());
  for (const char* bad :
       {"aGVsbG8", "aGVs bG8=", "aGVsbG8=\n", "aGVsbG9=", "aGVsbG8-", "====", "aGVsbG8_"}) {
    INFO(bad);
    auto r = base64_decode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "blob.bad_base64");
  }
}

TEST_CASE_METHOD(BlobFixture, "malformed base64 in a signature is blob.bad_base64", "[blob]") {
  std::string env = blob();
  const auto pos = env.find("\"sig\":\"") + 7;
  env.insert(pos, "%");
  CHECK(refusal(accept_blob(std::nullopt, env, trust_a(), std::nullopt, kNow)) ==
        "blob.bad_base64");
}

TEST_CASE_METHOD(BlobFixture, "malformed JSON is blob.malformed_json", "[blob]") {
  const std::string env = blob();
  for (const std::string& bad :
       {env.substr(0, env.size() - 1), std::string("not json"), std::string("[]"), std::string(""),
        std::string(R"({"payloadType":"a","payloadType":"b"})")}) {
    INFO(bad);
    CHECK(refusal(accept_blob(std::nullopt, bad, trust_a(), std::nullopt, kNow)) ==
          "blob.malformed_json");
  }
}

TEST_CASE_METHOD(BlobFixture, "a structurally wrong envelope is blob.bad_envelope", "[blob]") {
  const std::string env = blob();
  const std::string sig_obj = env.substr(env.find("{\"keyid\""));  // `{…}]}`
  const std::string sig_one = sig_obj.substr(0, sig_obj.size() - 2);
  const std::string type = R"("payloadType":"application/vnd.edgeward.rules.v1+json")";
  const std::string payload = R"("payload":"e30=")";
  for (const std::string& bad : {
           "{" + payload + ",\"signatures\":[" + sig_one + "]}",  // no type
           "{" + type + ",\"signatures\":[" + sig_one + "]}",     // no payload
           "{" + type + "," + payload + "}",                      // no signatures
           "{" + type + "," + payload + ",\"signatures\":[]}",    // empty
           "{" + type + "," + payload + ",\"signatures\":{}}",    // wrong type
           "{\"payloadType\":7," + payload + ",\"signatures\":[" + sig_one + "]}",
           "{" + type + "," + payload + ",\"signatures\":[" + sig_one + "],\"x\":1}",
           "{" + type + "," + payload + ",\"signatures\":[{\"sig\":\"e30=\"}]}",
           "{" + type + "," + payload +
               R"(,"signatures":[{"keyid":"ABCDEF0123456789","sig":"e30="}]})",
           "{" + type + "," + payload + R"(,"signatures":[{"keyid":"abc","sig":"e30="}]})",
           "{" + type + "," + payload +
               R"(,"signatures":[{"keyid":"0123456789abcdef","sig":"e30=","x":1}]})",
       }) {
    INFO(bad);
    CHECK(refusal(accept_blob(std::nullopt, bad, trust_a(), std::nullopt, kNow)) ==
          "blob.bad_envelope");
  }
}

TEST_CASE_METHOD(BlobFixture, "more signatures than the cap is blob.bad_envelope", "[blob]") {
  std::vector<const SecretKey*> keys(kMaxSignatures + 1, &a);
  CHECK(refusal(accept_blob(std::nullopt, sign_blob(payload(), keys), trust_a(), std::nullopt,
                            kNow)) == "blob.bad_envelope");
  std::vector<const SecretKey*> at_cap(kMaxSignatures, &a);
  CHECK(
      accept_blob(std::nullopt, sign_blob(payload(), at_cap), trust_a(), std::nullopt, kNow).ok());
}

TEST_CASE_METHOD(BlobFixture, "another payloadType is blob.wrong_payload_type", "[blob]") {
  Envelope e;
  e.payload_type = "application/vnd.in-toto+json";
  e.payload = serialize_blob_payload(payload());
  e.signatures.push_back(sign_pae(e.payload_type, e.payload, a));
  CHECK(refusal(accept_blob(std::nullopt, serialize_envelope(e), trust_a(), std::nullopt, kNow)) ==
        "blob.wrong_payload_type");
}

TEST_CASE_METHOD(BlobFixture, "a validly signed but malformed payload is blob.bad_payload",
                 "[blob]") {
  const std::string good_times =
      R"("created_at":"2026-05-01T00:00:00Z","expires_at":"2026-07-01T00:00:00Z")";
  const std::string pack = R"("pack":{})";
  for (const std::string& bad : {
           std::string("not json"),
           std::string("[1]"),
           R"({"format":1,"tenant_id":"t","version":1,)" + good_times + "}",    // no pack
           R"({"format":1,"version":1,)" + good_times + "," + pack + "}",       // no tenant
           R"({"tenant_id":"t","version":1,)" + good_times + "," + pack + "}",  // no format
           R"({"format":1,"tenant_id":"t",)" + good_times + "," + pack + "}",   // no version
           R"({"format":1,"tenant_id":"t","version":0,)" + good_times + "," + pack + "}",
           R"({"format":1,"tenant_id":"t","version":-3,)" + good_times + "," + pack + "}",
           R"({"format":1,"tenant_id":"t","version":1.5,)" + good_times + "," + pack + "}",
           R"({"format":1,"tenant_id":"t","version":"7",)" + good_times + "," + pack + "}",
           R"({"format":1,"tenant_id":"t","version":18446744073709551615,)" + good_times + "," +
               pack + "}",
           R"({"format":1,"tenant_id":"","version":1,)" + good_times + "," + pack + "}",
           R"({"format":1,"tenant_id":"t","version":1,)" + good_times + R"(,"pack":[]})",
           R"({"format":1,"tenant_id":"t","version":1,)" + good_times + "," + pack + R"(,"x":1})",
           R"({"format":1,"tenant_id":"t","tenant_id":"u","version":1,)" + good_times + "," + pack +
               "}",
           R"({"format":1,"tenant_id":"t","version":1,"created_at":"2026-05-01T00:00:00+02:00",)"
           R"("expires_at":"2026-07-01T00:00:00Z",)" +
               pack + "}",
           R"({"format":1,"tenant_id":"t","version":1,"created_at":"2026-05-01T00:00:00Z",)"
           R"("expires_at":"yesterday",)" +
               pack + "}",
           R"({"format":1,"tenant_id":"t","version":1,"created_at":"2026-08-01T00:00:00Z",)"
           R"("expires_at":"2026-07-01T00:00:00Z",)" +
               pack + "}",
       }) {
    INFO(bad);
    CHECK(refusal(accept_blob(std::nullopt, signed_raw_payload(bad, a), trust_a(), std::nullopt,
                              kNow)) == "blob.bad_payload");
  }
}

TEST_CASE_METHOD(BlobFixture, "a payload of another format is blob.unsupported_format", "[blob]") {
  const std::string p =
      R"({"format":2,"tenant_id":"t","version":1,"created_at":"2026-05-01T00:00:00Z",)"
      R"("expires_at":"2026-07-01T00:00:00Z","pack":{}})";
  CHECK(refusal(accept_blob(std::nullopt, signed_raw_payload(p, a), trust_a(), std::nullopt,
                            kNow)) == "blob.unsupported_format");
}

TEST_CASE_METHOD(BlobFixture, "an oversize envelope is blob.too_large before parsing", "[blob]") {
  const std::string huge(kMaxEnvelopeBytes + 1, ' ');
  CHECK(refusal(accept_blob(std::nullopt, huge, trust_a(), std::nullopt, kNow)) ==
        "blob.too_large");
}

TEST_CASE_METHOD(BlobFixture, "signatures are checked before the tenant, version and expiry",
                 "[blob]") {
  // An attacker must not learn which of our rules a forged blob would trip.
  BlobPayload p = payload(1, "tenant-2");
  p.created_at = kNow - 48h;
  p.expires_at = kNow - 1h;
  const std::string forged = sign_blob(p, {&stranger});
  CHECK(refusal(accept_blob(ActiveBlob{5, std::string(64, '0')}, forged, trust_a(),
                            std::string("tenant-1"), kNow)) == "blob.unknown_key");
}

TEST_CASE_METHOD(BlobFixture, "read_blob_unverified decodes without any trust decision", "[blob]") {
  BlobPayload p = payload(3, "x");
  p.created_at = kNow - 48h;
  p.expires_at = kNow - 1h;  // expired, untrusted key: still readable
  auto r = read_blob_unverified(sign_blob(p, {&stranger}));
  REQUIRE(r.ok());
  CHECK(r->payload.version == 3);
  CHECK(r->payload.pack_json == kPackJson);
  CHECK(r->key_ids == std::vector<std::string>{key_id(stranger.public_key())});
  auto bad = read_blob_unverified("{}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "blob.bad_envelope");
}

TEST_CASE("is_envelope tells a blob from a pack", "[blob]") {
  CHECK(is_envelope(R"({"payloadType":"x","payload":"","signatures":[]})"));
  CHECK_FALSE(is_envelope(R"({"apiVersion":"edgeward/v1","kind":"RulePack"})"));
  CHECK_FALSE(is_envelope("apiVersion: edgeward/v1\nkind: RulePack\n"));
}

TEST_CASE("the pack a blob carries loads with the pack loader", "[blob]") {
  // The payload carries pack_to_json() of a loaded pack; loading it back gives the same pack.
  const Pack pack = parse_pack(default_pack_yaml(), "<embedded>").value();
  auto loaded = load_blob_pack(pack_to_json(pack));
  REQUIRE(loaded.ok());
  CHECK(*loaded == pack);
}

TEST_CASE("a validly signed pack that does not load is blob.bad_pack", "[blob]") {
  for (const char* bad : {R"({"apiVersion":"edgeward/v1","kind":"RulePack","name":"t","rules":[]})",
                          R"({"apiVersion":"edgeward/v9"})", "{}"}) {
    INFO(bad);
    auto r = load_blob_pack(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "blob.bad_pack");
  }
}

TEST_CASE_METHOD(BlobFixture, "no single-byte mutation of a blob is accepted as other content",
                 "[blob]") {
  // Every refusal carries a documented code, and whatever is accepted carries the signed payload.
  const std::set<std::string> documented = {
      "blob.too_large",          "blob.malformed_json",     "blob.bad_envelope",
      "blob.bad_base64",         "blob.wrong_payload_type", "blob.no_trusted_keys",
      "blob.bad_signature",      "blob.unknown_key",        "blob.threshold_not_met",
      "blob.unsupported_format", "blob.bad_payload",        "blob.wrong_tenant",
      "blob.rollback",           "blob.version_conflict",   "blob.expired"};
  const std::string env = blob();
  const std::string payload_sha = sha256_hex(parse_envelope(env).value().payload);
  std::mt19937 rng(20261123);
  std::map<std::string, int> seen;
  for (int i = 0; i < 3000; ++i) {
    std::string m = env;
    const std::size_t pos = rng() % m.size();
    switch (rng() % 3) {
      case 0:
        m[pos] = static_cast<char>(m[pos] ^ (1u << (rng() % 8)));
        break;
      case 1:
        m.erase(pos, 1);
        break;
      default:
        m.insert(pos, 1, static_cast<char>(rng() % 256));
        break;
    }
    auto r = accept_blob(std::nullopt, m, trust_a(), std::string("tenant-1"), kNow);
    if (r.ok()) {
      CHECK(r->payload_sha256 == payload_sha);
      ++seen["accepted"];
    } else {
      INFO(r.error().code);
      CHECK(documented.count(r.error().code) == 1);
      ++seen[r.error().code];
    }
  }
  // The mutations reach the signature check, not only the JSON parser.
  CHECK(seen["blob.bad_signature"] > 0);
  CHECK(seen["blob.malformed_json"] > 0);
}
