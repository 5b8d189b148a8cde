// The compiled layout (rules/compiler.cpp): the short-text filter that lets a scan of a header
// value or URL skip Hyperscan when no pattern of the database can begin in it.

#include <catch2/catch.hpp>

#include <string>

#include "rules/compiled_internal.hpp"
#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;

namespace {

std::shared_ptr<const CompiledRules> compile_yaml(const std::string& rules_yaml) {
  auto pack =
      parse_pack("apiVersion: edgeward/v1\nkind: RulePack\nname: t\nrules:\n" + rules_yaml, "t");
  if (!pack.ok()) FAIL(pack.error().message);
  auto compiled = compile_rules(std::move(*pack));
  if (!compiled.ok()) FAIL(compiled.error().message);
  return *compiled;
}

std::shared_ptr<const CompiledRules> compile_default() {
  auto pack = parse_pack(default_pack_yaml(), "default");
  REQUIRE(pack.ok());
  auto compiled = compile_rules(std::move(*pack));
  REQUIRE(compiled.ok());
  return *compiled;
}

std::string rule(int n, const std::string& pattern) {
  return "  - id: 00000000-0000-4000-8000-00000000000" + std::to_string(n) + "\n    name: r" +
         std::to_string(n) +
         "\n    reason_code: DLP.SECRET.PRIVATE_KEY\n    action: block\n"
         "    matched_in: [headers]\n    detect:\n      patterns: ['" +
         pattern + "']\n";
}

struct ScratchFree {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};

// Hyperscan's own answer: does any block database of `db` (gated ones scanned whole) report a
// pattern match in `text`? The context words' pieces in the main one are not patterns.
bool hyperscan_matches(const CompiledRulesData& d, const Database& db, std::string_view text) {
  hs_scratch_t* raw = nullptr;
  REQUIRE(hs_clone_scratch(d.prototype.get(), &raw) == HS_SUCCESS);
  std::unique_ptr<hs_scratch_t, ScratchFree> scratch(raw);
  bool found = false;
  auto on_match = [](unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    if (id >= kContextLiteralId) return 0;
    *static_cast<bool*>(ctx) = true;
    return 1;  // one is enough
  };
  std::vector<const hs_database_t*> block{db.block.get(), db.context.block.get()};
  for (const GatedDatabase& g : db.gated) block.push_back(g.block.get());
  for (const hs_database_t* h : block) {
    if (!h || found) continue;
    const hs_error_t rc = hs_scan(h, text.data(), static_cast<unsigned>(text.size()), 0,
                                  scratch.get(), on_match, &found);
    REQUIRE((rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED));
  }
  return found;
}

}  // namespace

TEST_CASE("a short text the filter skips never holds a Hyperscan match (default pack)") {
  // Every window of 2 to kShortText bytes of every example of the default pack, for every
  // database: where the filter says no pattern can begin, Hyperscan must agree.
  auto rules = compile_default();
  const CompiledRulesData& d = rules->data();
  std::size_t skipped = 0, matched = 0;
  for (const Database& db : d.dbs) {
    if (!db.short_text.usable) continue;
    for (const Rule& r : d.pack.rules) {
      for (const auto* list : {&r.examples.match, &r.examples.no_match}) {
        for (const std::string& example : *list) {
          for (std::size_t from = 0; from < example.size(); ++from) {
            for (std::size_t len = 2; len <= kShortText && from + len <= example.size(); ++len) {
              const std::string_view window = std::string_view(example).substr(from, len);
              if (db.short_text.may_match(window)) continue;
              ++skipped;
              if (hyperscan_matches(d, db, window)) {
                ++matched;
                FAIL_CHECK("skipped a match: \"" << std::string(window) << "\"");
              }
            }
          }
        }
      }
    }
  }
  CHECK(matched == 0);
  CHECK(skipped > 1000);  // the filter does skip scans
}

TEST_CASE("the headers database skips typical header values that cannot begin a secret") {
  auto rules = compile_default();
  const CompiledRulesData& d = rules->data();
  const int db = d.slot_db[static_cast<std::size_t>(slot_of(Scope::request, Surface::headers))];
  REQUIRE(db >= 0);
  const ShortTextFilter& f = d.dbs[static_cast<std::size_t>(db)].short_text;
  REQUIRE(f.usable);
  CHECK_FALSE(f.may_match("127.0.0.1:8080"));
  CHECK_FALSE(f.may_match("gzip, deflate"));
  CHECK_FALSE(f.may_match("16384"));
  // A real secret is never skipped.
  CHECK(f.may_match("AKIA4XCIVWF6E2B7AYYA"));
  CHECK(f.may_match("password=Tr0ub4dor&3"));
}

TEST_CASE("a pattern narrower than two bytes turns the short-text filter off") {
  auto rules = compile_yaml(rule(1, "AKIA[0-9A-Z]{16}") + rule(2, "[#]"));
  const CompiledRulesData& d = rules->data();
  REQUIRE(d.dbs.size() == 1);
  CHECK_FALSE(d.dbs[0].short_text.usable);
  Scanner scanner;
  std::vector<Finding> out;
  REQUIRE(
      scanner.scan(*rules, Scope::request, Surface::headers, Layer::pre_template, "a#b", out).ok());
  CHECK(out.size() == 1);
}

TEST_CASE("a pattern whose matches are longer than the text does not count for it") {
  // [a-z]{40} could begin anywhere in lowercase text, but not in 32 bytes or fewer.
  auto rules = compile_yaml(rule(1, "AKIA[0-9A-Z]{16}") + rule(2, "[a-z]{40}"));
  const ShortTextFilter& f = rules->data().dbs[0].short_text;
  REQUIRE(f.usable);
  CHECK_FALSE(f.may_match("lowercase words only"));
  CHECK(f.may_match("lowercase words only, and then some more of them"));
  CHECK(f.may_match("key AKIA4XCIVWF6E2B7AYYA"));
  // And the scan finds what the filter lets through.
  Scanner scanner;
  std::vector<Finding> out;
  REQUIRE(scanner
              .scan(*rules, Scope::request, Surface::headers, Layer::pre_template,
                    "key AKIA4XCIVWF6E2B7AYYA", out)
              .ok());
  CHECK(out.size() == 1);
}
