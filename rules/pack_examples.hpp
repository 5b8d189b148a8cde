#pragma once
// Running the `examples` of a pack's rules (`edgeward rules test`, and the test suite's check
// of the embedded default pack).
//
// Each example is scanned in block mode as the rule's first (scope, surface, layer), and again
// in stream mode (one byte per chunk) when the rule applies to responses. A `match` example
// passes when that rule reports a finding; a `no_match` example passes when it does not (other
// rules may fire on it). Slow path: for the CLI and tests, not the data plane.

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "rules/engine.hpp"

namespace edgeward::rules {

struct ExampleFailure {
  std::size_t rule_index = 0;
  std::string rule_id;
  std::string rule_name;
  bool expected_match = false;  // true: a `match` example found nothing
  std::size_t example_index = 0;
  std::string example;
  std::string detail;  // e.g. "stream mode disagrees with block mode"
};

struct ExampleReport {
  std::size_t rules = 0;     // pattern rules with examples
  std::size_t examples = 0;  // examples run
  std::vector<ExampleFailure> failures;
};

// Errors: "rules.scan_failed" when Hyperscan fails (not an example failure).
Result<ExampleReport> run_pack_examples(const std::shared_ptr<const CompiledRules>& rules);

}  // namespace edgeward::rules
