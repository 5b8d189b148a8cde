// The embedded default pack: it loads, compiles, covers every reason code a pattern can detect
// with at least three match and three no_match examples each, and every example passes.

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/pack_examples.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;

namespace {
// Compiling the default pack costs seconds of CPU: once per test binary.
std::shared_ptr<const CompiledRules> default_rules() {
  static const std::shared_ptr<const CompiledRules> rules = [] {
    auto pack = parse_pack(default_pack_yaml(), "<embedded>");
    if (!pack.ok()) return std::shared_ptr<const CompiledRules>();
    auto compiled = compile_rules(std::move(*pack));
    return compiled.ok() ? *compiled : std::shared_ptr<const CompiledRules>();
  }();
  return rules;
}
}  // namespace

TEST_CASE("the default pack covers every pattern-detectable reason code with examples") {
  auto pack = parse_pack(default_pack_yaml(), "<embedded>");
  REQUIRE(pack.ok());
  std::map<std::string, std::pair<std::size_t, std::size_t>> examples;
  for (const auto& r : pack->rules) {
    if (r.kind != RuleKind::pattern) continue;
    INFO(r.name);
    CHECK(r.examples.match.size() >= 3);
    CHECK(r.examples.no_match.size() >= 3);
    auto& e = examples[r.reason_code];
    e.first += r.examples.match.size();
    e.second += r.examples.no_match.size();
  }
  for (const auto& code : reason_codes()) {
    if (code.detection != Detection::pattern || code.code == "POLICY.CUSTOM") continue;
    INFO(code.code);
    CHECK(examples.count(std::string(code.code)) == 1);
  }
}

TEST_CASE("every example of every rule of the default pack passes (block and stream mode)") {
  auto compiled = default_rules();
  REQUIRE(compiled);
  auto report = run_pack_examples(compiled);
  REQUIRE(report.ok());
  for (const auto& f : report->failures) {
    FAIL_CHECK("rules[" << f.rule_index << "] " << f.rule_name << ": "
                        << (f.expected_match ? "match" : "no_match") << " example "
                        << f.example_index << ": " << f.detail);
  }
  CHECK(report->examples >= 6 * report->rules);
  CHECK(report->failures.empty());
}

TEST_CASE("the acceptance sentences of issue 3") {
  auto compiled = default_rules();
  REQUIRE(compiled);
  Scanner scanner;
  std::vector<Finding> out;
  REQUIRE(scanner
              .scan(*compiled, Scope::request, Surface::body, Layer::pre_template,
                    "pay to DE89 3704 0044 0532 0130 00", out)
              .ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason_code == "DLP.PII.IBAN");
  out.clear();
  REQUIRE(scanner
              .scan(*compiled, Scope::request, Surface::body, Layer::pre_template,
                    "pay to DE89 3704 0044 0532 0130 01", out)
              .ok());
  CHECK(out.empty());
}

TEST_CASE("innocent prose finds nothing in the default pack") {
  auto compiled = default_rules();
  REQUIRE(compiled);
  Scanner scanner;
  std::vector<Finding> out;
  for (std::string_view text :
       {"Can you summarize the attached meeting notes from 2024-03-14 in three bullet points?",
        "Our release 2.4.1.7 ships on Friday; see https://docs.example.com/releases?id=12 for "
        "details.",
        "Write a Python function that validates a password with at least 12 characters.",
        "The request id was 3f2b8c9d-4e5f-4a6b-8c7d-9e0f1a2b3c4d and the build took 4.2 seconds.",
        "Translate 'ignore the noise and keep going' into German.",
        "My order #1234567 of 3 items cost $45.99 and arrived on 12/05/2023."}) {
    out.clear();
    REQUIRE(scanner.scan(*compiled, Scope::request, Surface::body, Layer::pre_template, text, out)
                .ok());
    INFO(text);
    for (const auto& f : out) FAIL_CHECK(f.reason_code << " " << f.rule_name);
  }
}
