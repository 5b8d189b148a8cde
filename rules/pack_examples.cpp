#include "rules/pack_examples.hpp"

#include <algorithm>

#include "rules/scanner.hpp"

namespace edgeward::rules {

namespace {

bool has_rule(const std::vector<Finding>& findings, std::uint32_t rule) {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.rule_index == rule; });
}

}  // namespace

Result<ExampleReport> run_pack_examples(const std::shared_ptr<const CompiledRules>& rules) {
  ExampleReport report;
  Scanner scanner;
  std::vector<Finding> found;
  const Pack& pack = rules->pack();
  for (std::uint32_t i = 0; i < pack.rules.size(); ++i) {
    const Rule& r = pack.rules[i];
    if (r.kind != RuleKind::pattern || r.scope.empty() || r.matched_in.empty() ||
        r.layers.empty()) {
      continue;
    }
    if (r.examples.match.empty() && r.examples.no_match.empty()) continue;
    ++report.rules;
    const Scope scope = r.scope.front();
    const Surface surface = r.matched_in.front();
    const Layer layer = r.layers.front();
    auto run = [&](const std::vector<std::string>& list, bool expect) -> Status {
      for (std::size_t k = 0; k < list.size(); ++k) {
        ++report.examples;
        found.clear();
        if (auto s = scanner.scan(*rules, scope, surface, layer, list[k], found); !s.ok()) return s;
        const bool block_hit = has_rule(found, i);
        std::string detail;
        if (block_hit != expect) {
          detail = expect ? "expected a match, found none" : "expected no match, found one";
        } else if (std::find(r.scope.begin(), r.scope.end(), Scope::response) != r.scope.end()) {
          // The same verdict byte by byte in stream mode.
          auto stream = scanner.open_stream(rules, Scope::response, surface, layer);
          if (!stream.ok()) return stream.error();
          std::vector<Finding> streamed;
          for (char c : list[k]) {
            if (auto s = scanner.feed(*stream, std::string_view(&c, 1), streamed); !s.ok())
              return s;
          }
          if (auto s = scanner.finish(*stream, streamed); !s.ok()) return s;
          if (has_rule(streamed, i) != expect) detail = "stream mode disagrees with block mode";
        }
        if (!detail.empty()) {
          report.failures.push_back(
              ExampleFailure{i, r.id, r.name, expect, k, list[k], std::move(detail)});
        }
      }
      return ok_status();
    };
    if (auto s = run(r.examples.match, true); !s.ok()) return s.error();
    if (auto s = run(r.examples.no_match, false); !s.ok()) return s.error();
  }
  return report;
}

}  // namespace edgeward::rules
