#pragma once
// A block/redact/monitor event as recorded by the gateway (DESIGN §4).
//
// Rules:
//  - An Event holds only the fields of DESIGN §4. There is no field for bodies, matched text,
//    header values, query strings or keys, so none of them can reach the store by construction.
//  - Free-text inputs that come from the client (the path, the Edgeward-Session header, the
//    model name) enter only through path_hash(), session_hash() and model_label() below, which
//    hash or bound them.
//  - validate() is what the writer checks before accepting an event; an event that fails it is
//    refused by EventWriter::submit() and counted in `rejected`.
//  - Thread-safety: plain value type; the helpers are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/time.hpp"

namespace edgeward::store {

// `scope`: which side of the exchange matched.
enum class Scope : std::uint8_t { kRequest, kResponse };
// `matched_in`: the inspection surface.
enum class MatchedIn : std::uint8_t { kHeaders, kBody, kUrl, kTools };
// `layer`: the inspection layer (DESIGN §2).
enum class Layer : std::uint8_t { kPreTemplate, kPostTemplate, kToolCall };
// `action`: what the deciding rule does.
enum class Action : std::uint8_t { kBlock, kRedact, kMonitor };
// `severity`: ordered from most to least severe.
enum class Severity : std::uint8_t { kCritical, kHigh, kMedium, kLow, kInfo };

// The wire/store spelling of each value: "request", "headers", "pre-template", "block", "high".
std::string_view to_string(Scope v);
std::string_view to_string(MatchedIn v);
std::string_view to_string(Layer v);
std::string_view to_string(Action v);
std::string_view to_string(Severity v);

// Parses the exact spellings above (lowercase only). Errors: "event.bad_scope",
// "event.bad_matched_in", "event.bad_layer", "event.bad_action", "event.bad_severity"; the
// message quotes the accepted values, never the input.
Result<Scope> parse_scope(std::string_view text);
Result<MatchedIn> parse_matched_in(std::string_view text);
Result<Layer> parse_layer(std::string_view text);
Result<Action> parse_action(std::string_view text);
Result<Severity> parse_severity(std::string_view text);

struct Event {
  // Local row id, assigned by the store on commit; 0 for an event not read back from the store.
  std::int64_t id = 0;
  // The gateway's enrolled id (UUID); nullopt before enrollment.
  std::optional<std::string> agent_id;
  // The deciding rule's id (UUID).
  std::string rule_id;
  Scope scope = Scope::kRequest;
  MatchedIn matched_in = MatchedIn::kBody;
  // The HTTP verb ("POST"): an RFC 9110 token of at most 16 characters.
  std::string request_method;
  // When the match was decided; stored as RFC 3339 UTC with milliseconds.
  timefmt::TimePoint occurred_at{};
  // DESIGN §3.1 code: "FAMILY.NAME" or "FAMILY.CLASS.NAME", [A-Z0-9_] parts.
  std::string reason_code;
  Severity severity = Severity::kInfo;
  // True when the gateway forwarded a sanitised payload instead (request-scope redact).
  bool retry = false;
  Layer layer = Layer::kPreTemplate;
  // "evt_" + ULID (ids::event_uid()); the idempotency key for upload, unique in the store.
  std::string uid;
  // "req_" + ULID (ids::request_id()); shared by the events of one request.
  std::string request_id;
  Action action = Action::kBlock;
  // 16 lowercase hex: path_hash(target). The path itself is never stored.
  std::string path_hash;
  // The rule blob version that decided (0 for the embedded default pack).
  std::int64_t rule_version = 0;
  // Model name from the request, through model_label(); empty when the request named none.
  std::string model;
  // The upstream's configured name ("openai").
  std::string upstream;
  // session_hash() of the Edgeward-Session request header; nullopt when the header is absent.
  std::optional<std::string> session;
  // Local bookkeeping, not a §4 field: true once the sync client got a 200 for this event.
  // Ignored by the writer (new events are never uploaded).
  bool uploaded = false;
};

// Checks every field against DESIGN §4 (formats, lengths, value sets). Error codes:
// "event.bad_uid", "event.bad_request_id", "event.bad_rule_id", "event.bad_agent_id",
// "event.bad_reason_code", "event.bad_method", "event.bad_path_hash", "event.bad_session",
// "event.bad_model", "event.bad_upstream", "event.bad_rule_version", "event.bad_occurred_at".
// Messages name the field, never its value.
Status validate(const Event& event);

// BLAKE2b-256 (libsodium crypto_generichash) of the request target's path — everything before
// the first '?' or '#' is hashed, the query is never looked at — truncated to its first 8 bytes,
// as 16 lowercase hex. crypto_generichash's minimum output is 16 bytes, hence the truncation
// (the same construction as the DSSE keyid of DESIGN §3.3).
std::string path_hash(std::string_view request_target);

// Same construction over the raw Edgeward-Session header value: 16 lowercase hex.
std::string session_hash(std::string_view header_value);

// The model name as stored: returned unchanged when it is 1–128 characters of
// [A-Za-z0-9._:/@+-] (every real model id), otherwise "invalid" so that a client cannot smuggle
// arbitrary text into the store through the model field. Empty stays empty.
std::string model_label(std::string_view raw_model);

}  // namespace edgeward::store
