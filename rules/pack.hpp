#pragma once
// Rule packs: the model of DESIGN §3.2 and its YAML/JSON loader.
//
// Who calls: the daemon and the CLI when (re)loading rules, the blob codec after verifying a
// signature (the blob payload carries the pack as JSON, which this same loader reads because
// YAML is a superset of JSON). Loading is slow-path work: call it off the event loop.
//
// Rules:
//  - Loading never stops at the first problem: every error is collected with its source line,
//    field path (`rules[3].detect.patterns[0]`) and the rule's id, so `edgeward rules lint`
//    can print them all. A pack with any error is refused as a whole.
//  - A loaded Pack is fully normalized: every default is filled in (severity from the
//    taxonomy, scope, matched_in, layers, priority, ...). pack_to_json() writes that normal form;
//    loading its output gives back an equal Pack.
//  - Patterns are checked with Hyperscan here (syntax, flags, width), each on its own so that an
//    error names its pattern. Every pattern must have a bounded maximum match length: stream
//    scanning holds back at most that many bytes (see scanner.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/taxonomy.hpp"

namespace edgeward::rules {

enum class Scope : std::uint8_t { request = 0, response = 1 };
enum class Surface : std::uint8_t { headers = 0, body = 1, url = 2, tools = 3 };
enum class Layer : std::uint8_t { pre_template = 0, post_template = 1, tool_call = 2 };
inline constexpr int kScopeCount = 2;
inline constexpr int kSurfaceCount = 4;
inline constexpr int kLayerCount = 3;

enum class RuleKind {
  pattern,
  tool_permission,
  model_permission,
  egress_domains,
  max_tokens,
  body_size
};

// Per-rule enforcement: `monitor` turns the rule's block/redact into monitor (shadow a new rule
// before enforcing it). The gateway-wide `mode: monitor` of DESIGN §5 does the same for all rules.
enum class RuleMode { enforce, monitor };

// Named checks run on a candidate match after Hyperscan found it (validators.hpp).
enum class Validator {
  luhn,
  credit_card,
  iban,
  us_ssn,
  us_itin,
  aba_routing,
  email,
  phone,
  ipv4,
  url_ipv4_host,
  uk_nino,
  swift_bic,
  calendar_date,
  base58check,
  bech32,
  eip55,
  crypto_wallet,
  github_token,
  jwt,
  aws_secret,
  db_connection_string,
  password_value,
  password_word,
  invisible_unicode,
  base64_text,
  ipv6,
  exfil_url,
  not_negated,
  // Prompt-injection intent model (injection_intent.hpp), one per reason code; the rule's
  // context.within must cover the model's window.
  injection_override,
  injection_role_hijack,
  injection_extraction,
  injection_jailbreak,
};

std::string_view to_string(Scope s);
std::string_view to_string(Surface s);
std::string_view to_string(Layer l);
std::string_view to_string(RuleKind k);
std::string_view to_string(RuleMode m);
std::string_view to_string(Validator v);
std::optional<Scope> parse_scope(std::string_view text);
std::optional<Surface> parse_surface(std::string_view text);
std::optional<Layer> parse_layer(std::string_view text);
std::optional<RuleKind> parse_rule_kind(std::string_view text);
std::optional<Validator> parse_validator(std::string_view text);

// Whether `v` is one of the injection_* validators: it scores the window around a cue with the
// intent model (rules/injection_intent.hpp), not the candidate's own bytes.
constexpr bool scores_window(Validator v) {
  return v == Validator::injection_override || v == Validator::injection_role_hijack ||
         v == Validator::injection_extraction || v == Validator::injection_jailbreak;
}

// Context words near a candidate (`detect.context`). Words match case-insensitively as whole
// words (or phrases) within `within` bytes before the match start or after its end.
struct ContextSpec {
  std::vector<std::string> words;    // lowercase
  std::uint32_t within = 64;         // bytes, each side
  bool required = false;             // true: no word nearby -> no finding; false: confidence boost
  std::vector<std::string> exclude;  // lowercase; any of these nearby -> no finding

  friend bool operator==(const ContextSpec&, const ContextSpec&) = default;
};

// Where a finding's span starts (`detect.span`). Hyperscan only reports a match's start when the
// database is compiled with HS_FLAG_SOM_LEFTMOST, which refuses many patterns with wide bounded
// repeats ("Pattern is too large") and costs speed. Rules whose match is a token or a URL can
// recover the start from the text instead:
//  - match: the exact start of the match (SOM). The default.
//  - token: the run of token characters [A-Za-z0-9_+/.@%-] (plus up to two '=' of padding at
//    the end) that ends where the match ends, trailing non-token bytes dropped. Keys, JWTs,
//    e-mail addresses, base64 runs.
//  - url: the run of bytes that are not whitespace or one of "'`<>()[]{} that ends where the
//    match ends, trailing such bytes dropped. URLs in markdown or HTML.
enum class SpanMode { match, token, url };
std::string_view to_string(SpanMode m);

struct Detect {
  std::vector<std::string> patterns;  // Hyperscan syntax
  bool caseless = false;
  SpanMode span = SpanMode::match;
  std::optional<Validator> validator;
  std::optional<ContextSpec> context;
  double min_entropy = 0.0;  // Shannon bits per byte of the match; 0 = no check

  friend bool operator==(const Detect&, const Detect&) = default;
};

struct Examples {
  std::vector<std::string> match;
  std::vector<std::string> no_match;

  friend bool operator==(const Examples&, const Examples&) = default;
};

struct Rule {
  std::string id;  // UUID, lowercase canonical
  std::string name;
  std::string description;
  std::string reason_code;
  Severity severity = Severity::medium;
  Action action = Action::block;
  std::int32_t priority = 100;  // ascending: lower runs (and decides) first
  RuleMode mode = RuleMode::enforce;
  RuleKind kind = RuleKind::pattern;
  std::vector<Scope> scope;         // sorted, unique
  std::vector<Surface> matched_in;  // sorted, unique
  std::vector<Layer> layers;        // sorted, unique

  // kind == pattern
  Detect detect;
  std::vector<std::string> allow;  // normalized: whitespace removed, ASCII upper-cased
  Examples examples;

  // kind == tool_permission: tool names a request may define or call (exact match).
  std::vector<std::string> allowed_tools;
  // kind == model_permission: glob patterns (`*` only). A model is denied when it matches
  // denied_models, or when allowed_models is non-empty and it matches none of them.
  std::vector<std::string> allowed_models;
  std::vector<std::string> denied_models;
  // kind == egress_domains: a host is allowed when it equals an entry or is a subdomain of it
  // ("example.com" allows "api.example.com"); lowercase.
  std::vector<std::string> allowed_domains;
  // kind == max_tokens (tokens) or body_size (bytes).
  std::uint64_t limit = 0;

  bool applies_to(Scope s, Surface f, Layer l) const;

  friend bool operator==(const Rule&, const Rule&) = default;
};

struct Pack {
  std::string api_version = "edgeward/v1";
  std::string name;
  std::string description;
  std::vector<Rule> rules;

  friend bool operator==(const Pack&, const Pack&) = default;
};

// One loading problem. `code` is stable ("rules.bad_pattern"); `path` is the field path
// ("rules[3].detect.patterns[0]", empty for document-level problems); `line` is 1-based, 0
// when unknown; `rule_id` is the rule's id when it has one.
struct PackError {
  std::string code;
  std::string path;
  std::string rule_id;
  int line = 0;
  std::string message;

  // "<source>:<line>: <path> (rule <id>): <message> [<code>]"
  std::string to_string(std::string_view source_name) const;
};

struct PackLoadResult {
  std::optional<Pack> pack;  // set only when errors is empty
  std::vector<PackError> errors;
};

// Loads a pack from YAML or JSON text, collecting every error. `source_name` is only used in
// messages (a file name, "<embedded>", "<blob>").
// Error codes: rules.yaml_syntax, rules.bad_type, rules.missing_field, rules.unknown_key,
// rules.bad_value, rules.bad_api_version, rules.bad_uuid, rules.duplicate_id,
// rules.unknown_reason_code, rules.unknown_validator, rules.empty_patterns, rules.bad_pattern,
// rules.unbounded_pattern, rules.field_not_allowed, rules.empty_rules.
PackLoadResult load_pack(std::string_view text, std::string_view source_name);

// The same as a Result: the error's code is "rules.pack_invalid" and its message lists every
// problem, one per line (as PackError::to_string).
Result<Pack> parse_pack(std::string_view text, std::string_view source_name);

// The normalized pack as compact JSON (keys in a fixed order, defaults written out), the form
// the signed blob payload carries. load_pack(pack_to_json(p)) yields a Pack equal to p.
std::string pack_to_json(const Pack& pack);

// The embedded default pack (rules/packs/default.yaml, compiled into the library).
std::string_view default_pack_yaml();

// Rules whose validator reads grouped digits (cards, IBANs, SSNs, ITINs, routing numbers, NINOs,
// phone numbers) compare their allow lists without group separators, so a test value listed
// once silences every way of grouping it. Other rules compare without whitespace only: an
// allowed `192.168.1.10` must not silence `192.168.11.0`.
bool allow_ignores_grouping(const Rule& rule);
// The length of the group separator at s[i], or 0: whitespace, `-`, `.`, `/` and the no-break
// spaces U+00A0, U+2009 and U+202F.
std::size_t allow_separator_at(std::string_view s, std::size_t i);

// Limits checked by the loader.
inline constexpr std::size_t kMaxPatternWidth = 4096;  // bytes a single match may span
inline constexpr std::uint32_t kMaxContextWindow = 1024;

}  // namespace edgeward::rules
