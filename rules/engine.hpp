#pragma once
// The compiled rule set: a Pack turned into Hyperscan databases, shared read-only by every
// worker thread (DESIGN §3.4).
//
//   auto compiled = rules::compile_rules(std::move(pack));      // off the event loop, ~0.1-1 s
//   std::shared_ptr<const CompiledRules> active = *compiled;    // swap in atomically
//   ... each worker thread owns one rules::Scanner (scanner.hpp) and calls
//   scanner.scan(*active, Scope::request, Surface::body, Layer::pre_template, text, findings);
//
// Rules:
//  - A CompiledRules is immutable once built. Share it as std::shared_ptr<const CompiledRules>;
//    a request keeps the pointer it started with, so a reload never changes rules mid-request.
//  - Databases: each (scope, surface) scans the patterns of every rule that applies there (any
//    layer; the layer is filtered after the scan). Identical pattern sets share one database,
//    and a set that is another set plus a few patterns (the tools surface: the body's rules plus
//    the tool-only ones) scans that set's database and a small extra database of the few, so
//    the shared part is compiled once (Hyperscan compile time grows faster than the pattern
//    count). Block-mode databases for every (scope, surface) with patterns; stream-mode
//    databases (HS_MODE_SOM_HORIZON_SMALL: matches are at most 4 KiB) for the response, which
//    streams.
//  - Patterns are compiled with HS_FLAG_SOM_LEFTMOST unless their rule's span is recovered from
//    the text (`detect.span: token|url`, pack.hpp): every finding carries [start, end)
//    (DESIGN §6 prints them; redaction replaces them; the proxy maps findings of the joined
//    conversation back to messages by their start; validators and allow lists need the
//    matched bytes).
//  - Patterns are byte-oriented (no HS_FLAG_UTF8): they match UTF-8 text as bytes, `.` does not
//    match a newline, `\b` and `\w` are ASCII.
//  - Hyperscan ids are indexes into the pattern table; the match callback only records
//    (id, from, to). Validators, context words, allow lists and the layer filter run after the
//    scan, outside the callback.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/pack.hpp"

namespace edgeward::rules {

// The gateway-wide `mode` of DESIGN §5: monitor turns every block and redact into monitor.
enum class EnforcementMode { enforce, monitor };

struct CompileOptions {
  EnforcementMode mode = EnforcementMode::enforce;
};

// One finding: a rule that matched (pattern rules: a validated span; policy rules: a denied
// tool/model/domain or a limit exceeded, with start == end == 0).
//
// The string views point into the CompiledRules that produced the finding: keep that
// shared_ptr alive as long as the findings (a request holds it for its whole life anyway).
struct Finding {
  std::uint32_t rule_index = 0;  // into CompiledRules::pack().rules
  std::string_view reason_code;
  std::string_view rule_id;  // UUID
  std::string_view rule_name;
  Severity severity = Severity::info;
  Action action = Action::monitor;  // effective: after the rule's and the gateway's mode
  std::int32_t priority = 0;
  std::uint64_t start = 0;       // byte offsets, [start, end); absolute from the stream start in
  std::uint64_t end = 0;         //   stream mode
  bool context_matched = false;  // a `detect.context` word was near the match (confidence boost)
  // Stream mode: this grows a finding an earlier feed reported (the same rule and start, a
  // larger end: later matches joined it; Scanner::feed). rules::grow_or_add keeps the latest.
  bool reported_again = false;
};

// What a set of findings decides (DESIGN §3.2: rules are evaluated in ascending priority and the
// first blocking rule decides).
enum class Verdict { allow, monitor, redact, block };
struct Decision {
  Verdict verdict = Verdict::allow;
  std::optional<std::size_t> deciding;  // index into the findings of the rule that decided
};
// block if any finding blocks (the one with the lowest priority decides); else redact if any
// redacts; else monitor if any; else allow. Ties on priority go to the earlier finding.
Decision decide(std::span<const Finding> findings);

struct CompiledRulesData;  // internal (rules/compiled_internal.hpp)

class CompiledRules {
 public:
  explicit CompiledRules(std::unique_ptr<CompiledRulesData> data);
  ~CompiledRules();
  CompiledRules(const CompiledRules&) = delete;
  CompiledRules& operator=(const CompiledRules&) = delete;

  const Pack& pack() const;
  const Rule& rule(std::uint32_t index) const;
  EnforcementMode mode() const;
  // The action a finding of rule `index` carries (rule mode and gateway mode applied).
  Action effective_action(std::uint32_t index) const;
  // A finding of rule `index`, its rule's fields and effective action filled in, without a span.
  Finding finding_of(std::uint32_t index) const;

  // Indexes of the non-pattern rules (tool_permission, ...), in ascending priority.
  std::span<const std::uint32_t> policy_rules() const;

  // True when some pattern rule looks at (scope, surface); scanning elsewhere finds nothing.
  bool has_patterns(Scope scope, Surface surface) const;
  // The longest span, in bytes, any pattern of (scope, surface) can match. A stream consumer
  // that holds back this many bytes can redact any match before it leaves (see scanner.hpp,
  // ScanStream::stable_offset for the exact bound).
  std::size_t max_match_length(Scope scope, Surface surface) const;

  // Distinct Hyperscan databases (block + stream) and their total size in bytes.
  std::size_t database_count() const;
  std::size_t database_bytes() const;

  // A process-unique number, different for every compiled set (Scanner uses it to know when its
  // scratch must grow).
  std::uint64_t generation() const;

  // Every database serialized (hs_serialize_database) in one byte string, for the store's
  // compiled-database cache. Load it back with load_compiled_rules() and the same pack.
  Result<std::string> serialize() const;

  const CompiledRulesData& data() const { return *data_; }

 private:
  std::unique_ptr<CompiledRulesData> data_;
};

// Compiles every pattern of `pack` into Hyperscan databases. Slow (tens to hundreds of ms):
// never on the event loop. Errors: "rules.compile_failed" (the message names the rule and the
// pattern path, e.g. `rules[3].detect.patterns[0] (rule <id>): Hyperscan: ...`),
// "rules.hyperscan_unsupported" (this CPU lacks SSSE3), "rules.scratch_failed".
Result<std::shared_ptr<const CompiledRules>> compile_rules(Pack pack,
                                                           const CompileOptions& options = {});

// Rebuilds a CompiledRules from serialize() output without compiling. The layout is derived
// from `pack` again, so the bytes must come from the same pack and options: a digest of both is
// stored and checked. Errors: "rules.cache_mismatch" (other pack, options or format),
// "rules.cache_corrupt" (truncated), "rules.cache_incompatible" (Hyperscan refused the
// database: other version or CPU platform).
Result<std::shared_ptr<const CompiledRules>> load_compiled_rules(
    Pack pack, std::string_view serialized, const CompileOptions& options = {});

// The part of the compiled-database cache key that is not the blob: Hyperscan's version and
// this CPU's platform as Hyperscan sees it, e.g. "hs 5.4.0 2021-01-26;tune=..;features=..".
std::string engine_cache_key();

}  // namespace edgeward::rules
