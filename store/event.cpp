#include "store/event.hpp"

#include <sodium.h>

#include <array>
#include <cstdlib>

#include "core/ids.hpp"

namespace edgeward::store {

namespace {

template <class E, std::size_t N>
struct ValueSet {
  std::array<std::string_view, N> names;
  const char* error_code;
  const char* accepted;  // for the error message; never echoes the input
};

constexpr ValueSet<Scope, 2> kScopes{
    {"request", "response"}, "event.bad_scope", "request, response"};
constexpr ValueSet<MatchedIn, 4> kMatchedIn{
    {"headers", "body", "url", "tools"}, "event.bad_matched_in", "headers, body, url, tools"};
constexpr ValueSet<Layer, 3> kLayers{{"pre-template", "post-template", "tool-call"},
                                     "event.bad_layer",
                                     "pre-template, post-template, tool-call"};
constexpr ValueSet<Action, 3> kActions{
    {"block", "redact", "monitor"}, "event.bad_action", "block, redact, monitor"};
constexpr ValueSet<Severity, 5> kSeverities{{"critical", "high", "medium", "low", "info"},
                                            "event.bad_severity",
                                            "critical, high, medium, low, info"};

template <class E, std::size_t N>
Result<E> parse_in(const ValueSet<E, N>& set, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (set.names[i] == text) return static_cast<E>(i);
  }
  return make_error(set.error_code, std::string("expected one of: ") + set.accepted);
}

template <class E, std::size_t N>
std::string_view name_in(const ValueSet<E, N>& set, E v) {
  const auto i = static_cast<std::size_t>(v);
  return i < N ? set.names[i] : std::string_view("?");
}

bool is_lower_hex(std::string_view s, std::size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool has_prefix_ulid(std::string_view s, std::string_view prefix) {
  return s.size() == prefix.size() + 26 && s.substr(0, prefix.size()) == prefix &&
         ids::is_ulid(s.substr(prefix.size()));
}

// FAMILY.NAME or FAMILY.CLASS.NAME; parts of [A-Z0-9_], starting with a letter.
bool is_reason_code(std::string_view s) {
  if (s.empty() || s.size() > 96) return false;
  int parts = 1;
  bool part_start = true;
  for (char c : s) {
    if (c == '.') {
      if (part_start) return false;
      ++parts;
      part_start = true;
      continue;
    }
    const bool upper = c >= 'A' && c <= 'Z';
    const bool ok = upper || (c >= '0' && c <= '9') || c == '_';
    if (!ok || (part_start && !upper)) return false;
    part_start = false;
  }
  return !part_start && (parts == 2 || parts == 3);
}

// RFC 9110 token characters.
bool is_method(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool is_model_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("._:/@+-").find(c) != std::string_view::npos;
}

bool is_model(std::string_view s) {
  if (s.size() > 128) return false;
  for (char c : s) {
    if (!is_model_char(c)) return false;
  }
  return true;
}

// Upstream names come from our own config; still bounded so the column stays a label.
bool is_upstream(std::string_view s) {
  if (s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string short_blake2b_hex(std::string_view data) {
  // sodium_init is idempotent and thread-safe; ids.cpp calls it too, but this file must not
  // depend on having been preceded by an id.
  static const int init = sodium_init();
  (void)init;
  std::array<unsigned char, crypto_generichash_BYTES> digest{};  // 32 bytes: BLAKE2b-256
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), nullptr, 0);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(16);
  for (std::size_t i = 0; i < 8; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

Error field_error(const char* code, const char* field, const char* expected) {
  return make_error(code, std::string("event field '") + field + "' is not " + expected);
}

}  // namespace

std::string_view to_string(Scope v) {
  return name_in(kScopes, v);
}
std::string_view to_string(MatchedIn v) {
  return name_in(kMatchedIn, v);
}
std::string_view to_string(Layer v) {
  return name_in(kLayers, v);
}
std::string_view to_string(Action v) {
  return name_in(kActions, v);
}
std::string_view to_string(Severity v) {
  return name_in(kSeverities, v);
}

Result<Scope> parse_scope(std::string_view t) {
  return parse_in(kScopes, t);
}
Result<MatchedIn> parse_matched_in(std::string_view t) {
  return parse_in(kMatchedIn, t);
}
Result<Layer> parse_layer(std::string_view t) {
  return parse_in(kLayers, t);
}
Result<Action> parse_action(std::string_view t) {
  return parse_in(kActions, t);
}
Result<Severity> parse_severity(std::string_view t) {
  return parse_in(kSeverities, t);
}

Status validate(const Event& e) {
  if (!has_prefix_ulid(e.uid, "evt_")) {
    return field_error("event.bad_uid", "uid", "\"evt_\" + ULID");
  }
  if (!has_prefix_ulid(e.request_id, "req_")) {
    return field_error("event.bad_request_id", "request_id", "\"req_\" + ULID");
  }
  if (!ids::is_uuid(e.rule_id)) return field_error("event.bad_rule_id", "rule_id", "a UUID");
  if (e.agent_id && !ids::is_uuid(*e.agent_id)) {
    return field_error("event.bad_agent_id", "agent_id", "a UUID");
  }
  if (!is_reason_code(e.reason_code)) {
    return field_error("event.bad_reason_code", "reason_code", "FAMILY[.CLASS].NAME");
  }
  if (!is_method(e.request_method)) {
    return field_error("event.bad_method", "request_method", "an HTTP method token");
  }
  if (!is_lower_hex(e.path_hash, 16)) {
    return field_error("event.bad_path_hash", "path_hash", "16 lowercase hex");
  }
  if (e.session && !is_lower_hex(*e.session, 16)) {
    return field_error("event.bad_session", "session", "16 lowercase hex");
  }
  if (!is_model(e.model)) {
    return field_error("event.bad_model", "model", "a model label (see model_label())");
  }
  if (!is_upstream(e.upstream)) {
    return field_error("event.bad_upstream", "upstream", "an upstream name");
  }
  if (e.rule_version < 0) {
    return field_error("event.bad_rule_version", "rule_version", "a non-negative integer");
  }
  const auto ms = e.occurred_at.time_since_epoch().count();
  // Years 1970..9999: the fixed-width RFC 3339 text the store sorts by.
  if (ms <= 0 || ms >= 253402300800000LL) {
    return field_error("event.bad_occurred_at", "occurred_at", "a time in 1970..9999");
  }
  return ok_status();
}

std::string path_hash(std::string_view request_target) {
  const auto end = request_target.find_first_of("?#");
  return short_blake2b_hex(request_target.substr(0, end));
}

std::string session_hash(std::string_view header_value) {
  return short_blake2b_hex(header_value);
}

std::string model_label(std::string_view raw_model) {
  if (raw_model.empty()) return {};
  if (is_model(raw_model)) return std::string(raw_model);
  return "invalid";
}

}  // namespace edgeward::store
