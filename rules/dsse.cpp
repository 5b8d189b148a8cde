#include "rules/dsse.hpp"

#include <simdjson.h>
#include <sodium.h>

#include <set>
#include <string_view>

#include "core/json.hpp"

namespace edgeward::rules {
namespace {

bool is_keyid(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Error bad_envelope(std::string message) {
  return make_error("blob.bad_envelope", std::move(message));
}

// The fields of a JSON object, refusing duplicate keys (two parsers could disagree on which one
// wins, and the one that verifies must be the one that is used).
Result<std::vector<std::pair<std::string_view, simdjson::dom::element>>> object_fields(
    simdjson::dom::object obj, std::string_view where) {
  std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
  std::set<std::string_view> seen;
  for (auto field : obj) {
    if (!seen.insert(field.key).second) {
      return make_error("blob.malformed_json", "duplicate key in " + std::string(where));
    }
    fields.emplace_back(field.key, field.value);
  }
  return fields;
}

Result<DsseSignature> parse_signature(simdjson::dom::element el, std::size_t index) {
  const std::string where = "signatures[" + std::to_string(index) + "]";
  simdjson::dom::object obj;
  if (el.get_object().get(obj)) return bad_envelope(where + " is not an object");
  auto fields = object_fields(obj, where);
  if (!fields) return fields.error();
  std::string_view keyid, sig;
  bool have_keyid = false, have_sig = false;
  for (const auto& [key, value] : *fields) {
    if (key == "keyid") {
      if (value.get_string().get(keyid)) return bad_envelope(where + ".keyid is not a string");
      have_keyid = true;
    } else if (key == "sig") {
      if (value.get_string().get(sig)) return bad_envelope(where + ".sig is not a string");
      have_sig = true;
    } else {
      return bad_envelope(where + " has an unknown field");
    }
  }
  if (!have_keyid) return bad_envelope(where + ".keyid is missing");
  if (!have_sig) return bad_envelope(where + ".sig is missing");
  if (!is_keyid(keyid)) return bad_envelope(where + ".keyid is not 16 lowercase hex digits");
  auto raw = base64_decode(sig);
  if (!raw) return make_error("blob.bad_base64", where + ".sig is not valid base64");
  return DsseSignature{std::string(keyid), std::move(raw).value()};
}

}  // namespace

std::string pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out.append(std::to_string(payload_type.size())).append(" ").append(payload_type).append(" ");
  out.append(std::to_string(payload.size())).append(" ").append(payload);
  return out;
}

Result<Envelope> parse_envelope(std::string_view json) {
  if (json.size() > kMaxEnvelopeBytes) {
    return make_error("blob.too_large", "envelope is " + std::to_string(json.size()) +
                                            " bytes, the limit is " +
                                            std::to_string(kMaxEnvelopeBytes));
  }
  // The DOM parser is not thread-safe; one per call keeps this function pure.
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err) {
    return make_error("blob.malformed_json",
                      std::string("envelope is not valid JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) {
    return make_error("blob.malformed_json", "envelope is not a JSON object");
  }
  auto fields = object_fields(obj, "envelope");
  if (!fields) return fields.error();

  Envelope env;
  bool have_type = false, have_payload = false, have_sigs = false;
  for (const auto& [key, value] : *fields) {
    if (key == "payloadType") {
      std::string_view s;
      if (value.get_string().get(s)) return bad_envelope("payloadType is not a string");
      env.payload_type = std::string(s);
      have_type = true;
    } else if (key == "payload") {
      std::string_view s;
      if (value.get_string().get(s)) return bad_envelope("payload is not a string");
      auto raw = base64_decode(s);
      if (!raw) return make_error("blob.bad_base64", "payload is not valid base64");
      env.payload = std::move(raw).value();
      have_payload = true;
    } else if (key == "signatures") {
      simdjson::dom::array arr;
      if (value.get_array().get(arr)) return bad_envelope("signatures is not an array");
      std::size_t i = 0;
      for (auto el : arr) {
        if (i == kMaxSignatures) {
          return bad_envelope("more than " + std::to_string(kMaxSignatures) + " signatures");
        }
        auto sig = parse_signature(el, i++);
        if (!sig) return sig.error();
        env.signatures.push_back(std::move(sig).value());
      }
      have_sigs = true;
    } else {
      return bad_envelope("envelope has an unknown field");
    }
  }
  if (!have_type) return bad_envelope("payloadType is missing");
  if (!have_payload) return bad_envelope("payload is missing");
  if (!have_sigs) return bad_envelope("signatures is missing");
  if (env.signatures.empty()) return bad_envelope("signatures is empty");
  return env;
}

std::string serialize_envelope(const Envelope& envelope) {
  std::string out = "{\"payloadType\":";
  json::append_json_string(out, envelope.payload_type);
  out.append(",\"payload\":\"").append(base64_encode(envelope.payload)).append("\"");
  out.append(",\"signatures\":[");
  bool first = true;
  for (const auto& s : envelope.signatures) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"keyid\":");
    json::append_json_string(out, s.keyid);
    out.append(",\"sig\":\"").append(base64_encode(s.sig)).append("\"}");
  }
  out.append("]}");
  return out;
}

DsseSignature sign_pae(std::string_view payload_type, std::string_view payload,
                       const SecretKey& key) {
  const std::string msg = pae(payload_type, payload);
  std::string sig(kSignatureBytes, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), key.data());
  return DsseSignature{key_id(key.public_key()), std::move(sig)};
}

bool verify_pae(std::string_view payload_type, std::string_view payload, std::string_view sig,
                const PublicKey& key) {
  if (sig.size() != kSignatureBytes) return false;
  ensure_sodium();
  const std::string msg = pae(payload_type, payload);
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                     reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                     key.bytes.data()) == 0;
}

}  // namespace edgeward::rules
