#pragma once
// The reason-code taxonomy (DESIGN §3.1): every code a rule, a decision or an event may carry.
//
// Rules:
//  - Codes are stable strings: once shipped, a code is never renamed or reused for another
//    meaning. Events, metrics, block responses and the cloud all key on them.
//  - This table is the single source: docs/reason-codes.md is checked against it by
//    tests/rules/taxonomy_test.cpp, and the pack loader refuses codes that are not here.
//  - The table is immutable static data; every function here is thread-safe.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace edgeward::rules {

enum class Severity { critical, high, medium, low, info };
enum class Action { block, redact, monitor };

// How a code is detected, so tests can check that the default pack covers every code a pattern
// can find, and docs can say where the others come from.
enum class Detection {
  pattern,  // a Hyperscan pattern (plus validators/context) finds it in text
  policy,   // a non-pattern rule kind (tool_permission, model_permission, ...) decides it
  gateway,  // the gateway itself raises it (no rules, route not configured, ...)
};

struct ReasonCode {
  std::string_view code;      // "DLP.PII.IBAN"
  Severity default_severity;  // used when a rule does not set `severity`
  Detection detection;
  std::string_view description;  // one line, for docs/reason-codes.md and `rules show`
};

// Every reason code, in documentation order (family by family).
std::span<const ReasonCode> reason_codes();

// The entry for `code`, or nullptr when the code is not in the taxonomy.
const ReasonCode* find_reason_code(std::string_view code);

std::string_view to_string(Severity s);
std::string_view to_string(Action a);
std::string_view to_string(Detection d);
std::optional<Severity> parse_severity(std::string_view text);
std::optional<Action> parse_action(std::string_view text);

// The Markdown table of docs/reason-codes.md (code, default severity, detected by, description),
// header row included. The doc embeds exactly this text; a test compares the two.
std::string reason_codes_markdown_table();

}  // namespace edgeward::rules
