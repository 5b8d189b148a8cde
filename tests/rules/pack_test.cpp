// The rule-pack loader: every error is reported with its code, path and rule id; JSON works
// like YAML; the normal form round-trips.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "rules/pack.hpp"

using namespace edgeward::rules;

namespace {

constexpr const char* kHeader = "apiVersion: edgeward/v1\nkind: RulePack\nname: t\nrules:\n";

std::string rule(const std::string& body,
                 const std::string& id = "0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11") {
  return "  - id: " + id + "\n    name: r\n    reason_code: DLP.PII.IBAN\n" + body;
}

const PackError* find(const PackLoadResult& r, const std::string& code, const std::string& path) {
  for (const auto& e : r.errors) {
    if (e.code == code && e.path == path) return &e;
  }
  return nullptr;
}

std::string dump(const PackLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string("t.yaml") + "\n";
  return out;
}

}  // namespace

TEST_CASE("a minimal pattern rule loads with the documented defaults") {
  auto r = load_pack(std::string(kHeader) + rule("    detect:\n      patterns: ['abc']\n"), "t");
  INFO(dump(r));
  REQUIRE(r.pack);
  const Rule& x = r.pack->rules.at(0);
  CHECK(x.severity == Severity::high);  // the taxonomy's default for DLP.PII.IBAN
  CHECK(x.action == Action::block);
  CHECK(x.priority == 100);
  CHECK(x.mode == RuleMode::enforce);
  CHECK(x.kind == RuleKind::pattern);
  CHECK(x.scope == std::vector<Scope>{Scope::request, Scope::response});
  CHECK(x.matched_in == std::vector<Surface>{Surface::body, Surface::tools});
  CHECK(x.layers.size() == 3);
  CHECK(x.detect.span == SpanMode::match);
}

TEST_CASE("a bad regex is reported with Hyperscan's message and its field path") {
  auto r =
      load_pack(std::string(kHeader) + rule("    detect:\n      patterns: ['ok', 'a(b']\n"), "t");
  CHECK_FALSE(r.pack);
  const PackError* e = find(r, "rules.bad_pattern", "rules[0].detect.patterns[1]");
  REQUIRE(e);
  CHECK(e->message.rfind("Hyperscan: ", 0) == 0);
  CHECK(e->rule_id == "0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11");
  CHECK(e->line == 9);
  CHECK(e->to_string("p.yaml").find("p.yaml:9: rules[0].detect.patterns[1] (rule 0b6f5e0a") == 0);
}

TEST_CASE("a key that is not a field name is not echoed: a credentials file stays unprinted") {
  auto r = load_pack("AKIAQWERTYUIOPASDFGH: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n", "creds");
  CHECK_FALSE(r.pack);
  std::string all = dump(r);
  for (const auto& e : r.errors) all += e.to_string("creds");
  CHECK(all.find("AKIA") == std::string::npos);
  CHECK(all.find("wJalr") == std::string::npos);
  CHECK(find(r, "rules.unknown_key", "<key not shown>"));
}

TEST_CASE("every error of a pack is reported, not just the first") {
  std::string text = std::string(kHeader) +
                     rule("    severity: urgent\n    detect:\n      patterns: ['a(']\n") +
                     rule("    detect:\n      patterns: []\n", "not-a-uuid") +
                     "  - id: 0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11\n    name: dup\n"
                     "    reason_code: DLP.PII.NOPE\n    colour: red\n"
                     "    detect:\n      patterns: ['x']\n      validator: crc64\n";
  auto r = load_pack(text, "t");
  INFO(dump(r));
  CHECK_FALSE(r.pack);
  CHECK(find(r, "rules.bad_value", "rules[0].severity"));
  CHECK(find(r, "rules.bad_pattern", "rules[0].detect.patterns[0]"));
  CHECK(find(r, "rules.bad_uuid", "rules[1].id"));
  CHECK(find(r, "rules.empty_patterns", "rules[1].detect.patterns"));
  CHECK(find(r, "rules.unknown_reason_code", "rules[2].reason_code"));
  CHECK(find(r, "rules.unknown_key", "rules[2].colour"));
  CHECK(find(r, "rules.unknown_validator", "rules[2].detect.validator"));
  CHECK(find(r, "rules.duplicate_id", "rules[2].id"));
  CHECK(r.errors.size() == 8);
}

TEST_CASE("loader error codes for each kind of bad input") {
  auto one = [](const std::string& text) { return load_pack(text, "t"); };
  SECTION("YAML syntax") {
    auto r = one("rules: [unclosed\n");
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].code == "rules.yaml_syntax");
    CHECK(r.errors[0].line > 0);
  }
  SECTION("not a mapping") {
    CHECK(one("- a\n- b\n").errors.at(0).code == "rules.bad_type");
  }
  SECTION("wrong apiVersion") {
    auto r = one("apiVersion: edgeward/v2\nkind: RulePack\nname: t\nrules:\n" +
                 rule("    detect:\n      patterns: ['a']\n"));
    CHECK(find(r, "rules.bad_api_version", "apiVersion"));
  }
  SECTION("missing rules and name") {
    auto r = one("apiVersion: edgeward/v1\nkind: RulePack\n");
    CHECK(find(r, "rules.missing_field", "rules"));
    CHECK(find(r, "rules.missing_field", "name"));
  }
  SECTION("empty rules") {
    CHECK(find(one("apiVersion: edgeward/v1\nkind: RulePack\nname: t\nrules: []\n"),
               "rules.empty_rules", "rules"));
  }
  SECTION("bad enum values in lists") {
    auto r = one(std::string(kHeader) +
                 rule("    scope: [request, sideways]\n    matched_in: [cookies]\n"
                      "    layers: []\n    action: drop\n    mode: shadow\n"
                      "    detect:\n      patterns: ['a']\n      span: word\n"));
    CHECK(find(r, "rules.bad_value", "rules[0].scope[1]"));
    CHECK(find(r, "rules.bad_value", "rules[0].matched_in[0]"));
    CHECK(find(r, "rules.bad_value", "rules[0].layers"));
    CHECK(find(r, "rules.bad_value", "rules[0].action"));
    CHECK(find(r, "rules.bad_value", "rules[0].mode"));
    CHECK(find(r, "rules.bad_value", "rules[0].detect.span"));
  }
  SECTION("wrong types") {
    auto r =
        one(std::string(kHeader) +
            rule("    priority: high\n    detect:\n      patterns: 'a'\n      caseless: maybe\n"));
    CHECK(find(r, "rules.bad_type", "rules[0].priority"));
    CHECK(find(r, "rules.bad_type", "rules[0].detect.patterns"));
    CHECK(find(r, "rules.bad_type", "rules[0].detect.caseless"));
  }
  SECTION("missing detect") {
    CHECK(find(one(std::string(kHeader) + rule("")), "rules.missing_field", "rules[0].detect"));
  }
  SECTION("unbounded pattern") {
    auto r = one(std::string(kHeader) + rule("    detect:\n      patterns: ['ab+c']\n"));
    CHECK(find(r, "rules.unbounded_pattern", "rules[0].detect.patterns[0]"));
  }
  SECTION("pattern matching the empty string") {
    auto r = one(std::string(kHeader) + rule("    detect:\n      patterns: ['a?']\n"));
    CHECK(find(r, "rules.bad_pattern", "rules[0].detect.patterns[0]"));
  }
  SECTION("required context without words") {
    auto r = one(std::string(kHeader) +
                 rule("    detect:\n      patterns: ['a']\n      context: {required: true}\n"));
    CHECK(find(r, "rules.missing_field", "rules[0].detect.context.words"));
  }
  SECTION("context window out of range") {
    auto r = one(
        std::string(kHeader) +
        rule("    detect:\n      patterns: ['a']\n      context: {words: [x], within: 5000}\n"));
    CHECK(find(r, "rules.bad_value", "rules[0].detect.context.within"));
  }
  SECTION("a policy field on a pattern rule") {
    auto r = one(std::string(kHeader) +
                 rule("    allowed_tools: [x]\n    detect:\n      patterns: ['a']\n"));
    CHECK(find(r, "rules.field_not_allowed", "rules[0].allowed_tools"));
  }
}

TEST_CASE("non-pattern kinds load with their own fields") {
  std::string text = std::string(kHeader) +
                     "  - id: 2c1d0000-0000-4000-8000-000000000001\n    name: tools\n"
                     "    reason_code: POLICY.TOOL_DENIED\n    kind: tool_permission\n"
                     "    allowed_tools: [web_search]\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000002\n    name: models\n"
                     "    reason_code: POLICY.MODEL_DENIED\n    kind: model_permission\n"
                     "    allowed_models: ['gpt-4o*']\n    denied_models: [gpt-4o-mini]\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000003\n    name: egress\n"
                     "    reason_code: EGRESS.UNAPPROVED_DOMAIN\n    kind: egress_domains\n"
                     "    allowed_domains: [Example.COM]\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000004\n    name: tokens\n"
                     "    reason_code: POLICY.MAX_TOKENS_EXCEEDED\n    kind: max_tokens\n"
                     "    limit: 4096\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000005\n    name: size\n"
                     "    reason_code: POLICY.BODY_TOO_LARGE\n    kind: body_size\n"
                     "    limit: 1MiB\n";
  auto r = load_pack(text, "t");
  INFO(dump(r));
  REQUIRE(r.pack);
  const auto& rules = r.pack->rules;
  CHECK(rules[0].allowed_tools == std::vector<std::string>{"web_search"});
  CHECK(rules[1].denied_models == std::vector<std::string>{"gpt-4o-mini"});
  CHECK(rules[2].allowed_domains == std::vector<std::string>{"example.com"});
  CHECK(rules[3].limit == 4096);
  CHECK(rules[4].limit == 1048576);
}

TEST_CASE("non-pattern kinds refuse missing and foreign fields") {
  std::string text = std::string(kHeader) +
                     "  - id: 2c1d0000-0000-4000-8000-000000000001\n    name: tools\n"
                     "    reason_code: POLICY.TOOL_DENIED\n    kind: tool_permission\n"
                     "    detect: {patterns: [a]}\n    limit: 3\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000002\n    name: size\n"
                     "    reason_code: POLICY.BODY_TOO_LARGE\n    kind: body_size\n"
                     "    limit: lots\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000003\n    name: m\n"
                     "    reason_code: POLICY.MODEL_DENIED\n    kind: model_permission\n"
                     "  - id: 2c1d0000-0000-4000-8000-000000000004\n    name: k\n"
                     "    reason_code: POLICY.CUSTOM\n    kind: firewall\n"
                     "    detect: {patterns: [a]}\n";
  auto r = load_pack(text, "t");
  INFO(dump(r));
  CHECK(find(r, "rules.missing_field", "rules[0].allowed_tools"));
  CHECK(find(r, "rules.field_not_allowed", "rules[0].detect"));
  CHECK(find(r, "rules.field_not_allowed", "rules[0].limit"));
  CHECK(find(r, "rules.bad_value", "rules[1].limit"));
  CHECK(find(r, "rules.missing_field", "rules[2].allowed_models"));
  CHECK(find(r, "rules.bad_value", "rules[3].kind"));
}

TEST_CASE("allow-list entries and context words are normalized") {
  auto r = load_pack(std::string(kHeader) +
                         rule("    detect:\n      patterns: ['a']\n"
                              "      context: {words: ['Date  of Birth'], within: 10}\n"
                              "    allow: ['de89 3704 0044 0532 0130 00', '4111-1111.1111/1111',\n"
                              "            \"4111\\u00a01111\\u202f1111\\u20091111\"]\n"),
                     "t");
  REQUIRE(r.pack);
  // Whitespace only: group separators are skipped when a rule compares (allow_ignores_grouping).
  CHECK(r.pack->rules[0].allow == std::vector<std::string>{"4111-1111.1111/1111",
                                                           "4111\u00a01111\u202f1111\u20091111",
                                                           "DE89370400440532013000"});
  CHECK(r.pack->rules[0].detect.context->words == std::vector<std::string>{"date of birth"});
}

TEST_CASE("the same pack given as JSON loads to the same Pack") {
  std::string yaml = std::string(kHeader) + rule("    detect:\n      patterns: ['a\\d']\n");
  std::string json =
      R"({"apiVersion":"edgeward/v1","kind":"RulePack","name":"t","rules":[{"id":"0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11","name":"r","reason_code":"DLP.PII.IBAN","detect":{"patterns":["a\\d"]}}]})";
  auto a = parse_pack(yaml, "y");
  auto b = parse_pack(json, "j");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  CHECK(b->rules[0].detect.patterns[0] == "a\\d");
}

TEST_CASE("pack_to_json round-trips the embedded default pack") {
  auto pack = parse_pack(default_pack_yaml(), "<embedded>");
  REQUIRE(pack.ok());
  std::string json = pack_to_json(*pack);
  auto again = parse_pack(json, "<json>");
  INFO((again.ok() ? std::string() : again.error().message));
  REQUIRE(again.ok());
  CHECK(*again == *pack);
  CHECK(pack_to_json(*again) == json);
}

TEST_CASE("parse_pack folds every error into one message") {
  auto r = parse_pack("apiVersion: x\nkind: y\n", "f.yaml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "rules.pack_invalid");
  CHECK(r.error().message.find("f.yaml") != std::string::npos);
  CHECK(std::count(r.error().message.begin(), r.error().message.end(), '\n') >= 2);
}

TEST_CASE("JSON surrogate pairs (characters outside the BMP) load like their UTF-8 bytes") {
  std::string json =
      R"({"apiVersion":"edgeward/v1","kind":"RulePack","name":"t","rules":[{"id":"0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11","name":"r","reason_code":"INJECTION.JAILBREAK_TEMPLATE","detect":{"patterns":["\\[\ud83d\udd13JAILBREAK\\]"]},"examples":{"match":["x\\ud83d"]}}]})";
  auto r = parse_pack(json, "j");
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->rules[0].detect.patterns[0] == "\\[\xF0\x9F\x94\x93JAILBREAK\\]");
  CHECK(r->rules[0].examples.match[0] == "x\\ud83d");  // an escaped backslash stays text
}
