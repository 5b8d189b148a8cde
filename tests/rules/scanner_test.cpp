// Block and stream scanning: validators, context, allow lists, layers, priority order, modes,
// stream chunking, the compiled-database cache.

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <thread>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/policy.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;

namespace {

std::shared_ptr<const CompiledRules> compile(const std::string& rules_yaml,
                                             CompileOptions options = {}) {
  auto pack =
      parse_pack("apiVersion: edgeward/v1\nkind: RulePack\nname: t\nrules:\n" + rules_yaml, "t");
  if (!pack.ok()) FAIL(pack.error().message);
  auto compiled = compile_rules(std::move(*pack), options);
  if (!compiled.ok()) FAIL(compiled.error().message);
  return *compiled;
}

const std::string kIban =
    "  - id: 00000000-0000-4000-8000-000000000001\n    name: IBAN\n"
    "    reason_code: DLP.PII.IBAN\n    action: redact\n    priority: 100\n"
    "    detect:\n      patterns: ['\\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\\b']\n"
    "      validator: iban\n";

std::vector<Finding> scan(const CompiledRules& rules, std::string_view text,
                          Layer layer = Layer::pre_template, Scope scope = Scope::request,
                          Surface surface = Surface::body) {
  Scanner scanner;
  std::vector<Finding> out;
  auto s = scanner.scan(rules, scope, surface, layer, text, out);
  REQUIRE(s.ok());
  return out;
}

std::vector<Finding> stream_scan(Scanner& scanner,
                                 const std::shared_ptr<const CompiledRules>& rules,
                                 std::string_view text, const std::vector<std::size_t>& cuts,
                                 Layer layer = Layer::pre_template) {
  auto stream = scanner.open_stream(rules, Scope::response, Surface::body, layer);
  REQUIRE(stream.ok());
  std::vector<Finding> out, batch;
  std::size_t pos = 0;
  std::uint64_t last_stable = 0;
  bool ordered = true;
  for (std::size_t cut : cuts) {
    batch.clear();
    REQUIRE(scanner.feed(*stream, text.substr(pos, cut - pos), batch).ok());
    // Findings are reported once their text has arrived, and never start before text that
    // was already declared stable. One reported again grows (grow_or_add).
    for (const Finding& f : batch) {
      ordered &= f.end <= stream->bytes_seen() && f.start >= last_stable;
      grow_or_add(out, f);
    }
    ordered &= stream->stable_offset() <= stream->bytes_seen();
    last_stable = stream->stable_offset();
    pos = cut;
  }
  CHECK(ordered);
  batch.clear();
  REQUIRE(scanner.feed(*stream, text.substr(pos), batch).ok());
  REQUIRE(scanner.finish(*stream, batch).ok());
  for (const Finding& f : batch) grow_or_add(out, f);
  CHECK(stream->stable_offset() == text.size());
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.priority, a.start, a.rule_index) <
           std::tie(b.priority, b.start, b.rule_index);
  });
  return out;
}

bool same(const std::vector<Finding>& a, const std::vector<Finding>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].rule_index != b[i].rule_index || a[i].start != b[i].start || a[i].end != b[i].end) {
      return false;
    }
  }
  return true;
}

// Random texts of `words` and runs of capitals and digits (a digit one time in
// `digit_one_in`), up to 4 KiB: block mode, where gates scan some patterns only on slices of
// the text, must find exactly what stream mode (every pattern over every byte) finds. Returns
// how many findings there were, so a caller can check the texts were not all empty of them.
std::size_t block_equals_stream(const std::shared_ptr<const CompiledRules>& rules,
                                std::span<const char* const> words, unsigned seed, int rounds,
                                unsigned digit_one_in) {
  std::mt19937 rng(seed);
  std::size_t findings = 0;
  Scanner scanner;
  for (int round = 0; round < rounds; ++round) {
    std::string text;
    const std::size_t n = round % 8 == 0 ? 2000 + rng() % 2000 : 20 + rng() % 400;
    while (text.size() < n) {
      if (rng() % 3 == 0) {
        const std::size_t len = 1 + rng() % 16;
        for (std::size_t i = 0; i < len; ++i) {
          text +=
              static_cast<char>(rng() % digit_one_in == 0 ? '0' + rng() % 10 : 'A' + rng() % 26);
        }
      } else {
        text += words[rng() % words.size()];
      }
      text += rng() % 4 == 0 ? "" : " ";
    }
    auto block = scan(*rules, text, Layer::pre_template, Scope::response);
    std::sort(block.begin(), block.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.priority, a.start, a.rule_index) <
             std::tie(b.priority, b.start, b.rule_index);
    });
    auto whole = stream_scan(scanner, rules, text, {});
    INFO("round " << round << ": " << text);
    REQUIRE(same(block, whole));
    findings += block.size();
  }
  return findings;
}

}  // namespace

TEST_CASE("finds a valid IBAN with its span and nothing for a bad check digit") {
  auto rules = compile(kIban);
  auto found = scan(*rules, "pay to DE89 3704 0044 0532 0130 00 today");
  REQUIRE(found.size() == 1);
  CHECK(found[0].reason_code == "DLP.PII.IBAN");
  CHECK(found[0].rule_id == "00000000-0000-4000-8000-000000000001");
  CHECK(found[0].start == 7);
  CHECK(found[0].end == 34);
  CHECK(found[0].action == Action::redact);
  CHECK(found[0].severity == Severity::high);
  CHECK(scan(*rules, "pay to DE89 3704 0044 0532 0130 01").empty());
}

TEST_CASE("the longest valid end wins when a longer candidate fails its validator") {
  auto rules = compile(kIban);
  auto found = scan(*rules, "DE89 3704 0044 0532 0130 00 EUR");
  REQUIRE(found.size() == 1);
  CHECK(found[0].end == 27);
}

TEST_CASE("required context words gate a finding, exclude words veto it") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000002\n    name: routing\n"
      "    reason_code: DLP.PII.US_BANK_ROUTING\n"
      "    detect:\n      patterns: ['\\b[0-9]{9}\\b']\n      validator: aba_routing\n"
      "      context: {words: [routing number, aba], within: 20, required: true, exclude: "
      "[order]}\n");
  CHECK(scan(*rules, "routing number 021000021").size() == 1);
  CHECK(scan(*rules, "021000021 is the ABA").size() == 1);
  CHECK(scan(*rules, "route 021000021").empty());
  CHECK(scan(*rules, "routing number for order 021000021").empty());
  // Too far away: more than 20 bytes between the word and the number.
  CHECK(scan(*rules, "routing number, as discussed last week, 021000021").empty());
  auto found = scan(*rules, "ABA 021000021");
  REQUIRE(found.size() == 1);
  CHECK(found[0].context_matched);
}

TEST_CASE("a context word glued to a word across the window's edge is not that word") {
  // The window reaches 20 bytes back from the number. "aba" starting right at its edge counts,
  // "xaba" does not, wherever the window happens to begin (it used to count as a word there).
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000002\n    name: routing\n"
      "    reason_code: DLP.PII.US_BANK_ROUTING\n"
      "    detect:\n      patterns: ['\\b[0-9]{9}\\b']\n      validator: aba_routing\n"
      "      context: {words: [aba], within: 20, required: true}\n");
  const std::string pad(17, ' ');
  CHECK(scan(*rules, " aba" + pad + "021000021").size() == 1);
  CHECK(scan(*rules, "xaba" + pad + "021000021").empty());
  CHECK(scan(*rules, "021000021" + pad + "abax").empty());
  CHECK(scan(*rules, "021000021" + pad + "aba").size() == 1);
}

TEST_CASE("context words match alike whether the list is indexed or searched word by word") {
  // Up to 64 words are indexed by the byte each can start at; longer lists are searched one
  // word at a time. Both must read the window the same way: case, whitespace runs inside a
  // phrase, word boundaries, and the window's edges.
  auto rule = [](const std::string& id, const std::string& words) {
    return "  - id: 00000000-0000-4000-8000-0000000000" + id +
           "\n    name: routing\n    reason_code: DLP.PII.US_BANK_ROUTING\n"
           "    detect:\n      patterns: ['\\b[0-9]{9}\\b']\n      validator: aba_routing\n"
           "      context: {words: [" +
           words + "], within: 20, required: true, exclude: [order, void]}\n";
  };
  std::string filler;
  for (int i = 0; i < 70; ++i) filler += ", filler" + std::to_string(i);
  auto indexed = compile(rule("10", "routing number, aba, 'r t n'"));
  auto listed = compile(rule("11", "routing number, aba, 'r t n'" + filler));
  const char* texts[] = {
      "routing number 021000021",
      "ROUTING\t\n NUMBER 021000021",
      "routingnumber 021000021",
      "abas 021000021",
      "xaba 021000021",
      "021000021 aba",
      "021000021 abax",
      "0000000000 aba 021000021",
      "r  t\tn 021000021",
      "aba order 021000021",
      "routing number VOID 021000021",
      "some words before the aba window: 021000021",
  };
  for (const char* t : texts) {
    auto a = scan(*indexed, t);
    auto b = scan(*listed, t);
    INFO(t);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i].start == b[i].start);
      CHECK(a[i].end == b[i].end);
      CHECK(a[i].context_matched == b[i].context_matched);
    }
  }
  CHECK(scan(*indexed, "ROUTING\t\n NUMBER 021000021").size() == 1);
  CHECK(scan(*indexed, "routingnumber 021000021").empty());
  CHECK(scan(*indexed, "021000021 abax").empty());
  CHECK(scan(*indexed, "r  t\tn 021000021").size() == 1);
  CHECK(scan(*indexed, "routing number VOID 021000021").empty());
}

TEST_CASE("optional context words only raise confidence") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000003\n    name: ssn\n"
      "    reason_code: DLP.PII.US_SSN\n"
      "    detect:\n      patterns: ['\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b']\n      validator: us_ssn\n"
      "      context: {words: [ssn], within: 16}\n");
  auto with = scan(*rules, "SSN: 536-22-8745");
  auto without = scan(*rules, "id 536-22-8745");
  REQUIRE(with.size() == 1);
  REQUIRE(without.size() == 1);
  CHECK(with[0].context_matched);
  CHECK_FALSE(without[0].context_matched);
}

TEST_CASE("allow-listed values are never reported, whatever their grouping") {
  const std::string grouped =
      "  - id: 00000000-0000-4000-8000-000000000001\n    name: IBAN\n"
      "    reason_code: DLP.PII.IBAN\n    action: redact\n"
      "    detect:\n      patterns: ['\\b[A-Z]{2}[0-9]{2}(?:(?:[ "
      "-]|\\xC2\\xA0)?[A-Z0-9]){11,30}\\b']\n"
      "      validator: iban\n";
  auto plain = compile(grouped);
  auto allowing = compile(grouped + "    allow: ['DE89370400440532013000']\n");
  for (const char* text :
       {"pay to DE89 3704 0044 0532 0130 00", "pay to DE89-3704-0044-0532-0130-00",
        "pay to DE89\xC2\xA0"
        "3704\xC2\xA0"
        "0044\xC2\xA0"
        "0532\xC2\xA0"
        "0130\xC2\xA0"
        "00"}) {
    INFO(text);
    CHECK(scan(*plain, text).size() == 1);
    CHECK(scan(*allowing, text).empty());
  }
  CHECK(scan(*allowing, "GB82WEST12345698765432").size() == 1);
}

TEST_CASE("allow lists ignore grouping only for rules that read grouped digits") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-0000000000a1\n    name: ip\n"
      "    reason_code: DLP.PII.IP_ADDRESS\n    action: monitor\n"
      "    detect:\n      patterns: ['\\b[0-9]{1,3}(?:\\.[0-9]{1,3}){3}\\b']\n"
      "    allow: ['192.168.1.10']\n");
  CHECK(scan(*rules, "host 192.168.1.10").empty());
  CHECK(scan(*rules, "host 192.168.11.0").size() == 1);
  CHECK(scan(*rules, "host 19.216.81.10").size() == 1);
}

TEST_CASE(
    "the default pack's test card numbers are allowed in any grouping and real ones are not") {
  auto pack = parse_pack(default_pack_yaml(), "<embedded>");
  REQUIRE(pack.ok());
  auto compiled = compile_rules(std::move(*pack));
  REQUIRE(compiled.ok());
  auto rules = *compiled;
  for (const char* text :
       {"4111 1111 1111 1111", "4111-1111-1111-1111", "4111.1111.1111.1111", "4111/1111/1111/1111",
        "4111\xC2\xA0"
        "1111\xC2\xA0"
        "1111\xC2\xA0"
        "1111"}) {
    INFO(text);
    CHECK(scan(*rules, text).empty());
  }
  for (const char* text :
       {"4555 9797 1147 1041", "4555-9797-1147-1041", "4555.9797.1147.1041", "4555/9797/1147/1041",
        "4555\xC2\xA0"
        "9797\xE2\x80\xAF"
        "1147\xE2\x80\x89"
        "1041",
        "3734.236671.27685"}) {
    INFO(text);
    const auto found = scan(*rules, text);
    REQUIRE(found.size() == 1);
    CHECK(found[0].reason_code == "DLP.PII.CREDIT_CARD");
    CHECK(found[0].end - found[0].start == std::string_view(text).size());
  }
  // Dots inside one group are a decimal number, never a card.
  CHECK(scan(*rules, "ratio 4.555979711471041 and 45559.79711471041").empty());
}

TEST_CASE("a rule only fires in its layers, scopes and surfaces") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000004\n    name: tool only\n"
      "    reason_code: INJECTION.INDIRECT_TOOL_RESULT\n    scope: [response]\n"
      "    matched_in: [tools]\n    layers: [tool-call]\n"
      "    detect:\n      patterns: ['evil']\n");
  CHECK(scan(*rules, "evil", Layer::tool_call, Scope::response, Surface::tools).size() == 1);
  CHECK(scan(*rules, "evil", Layer::pre_template, Scope::response, Surface::tools).empty());
  CHECK(scan(*rules, "evil", Layer::tool_call, Scope::request, Surface::tools).empty());
  CHECK(scan(*rules, "evil", Layer::tool_call, Scope::response, Surface::body).empty());
  CHECK_FALSE(rules->has_patterns(Scope::request, Surface::body));
  CHECK(rules->has_patterns(Scope::response, Surface::tools));
}

TEST_CASE("findings come in priority order and the first blocking rule decides") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000005\n    name: late block\n"
      "    reason_code: POLICY.CUSTOM\n    action: block\n    priority: 50\n"
      "    detect:\n      patterns: ['beta']\n"
      "  - id: 00000000-0000-4000-8000-000000000006\n    name: early monitor\n"
      "    reason_code: POLICY.CUSTOM\n    action: monitor\n    priority: 1\n"
      "    detect:\n      patterns: ['alpha']\n"
      "  - id: 00000000-0000-4000-8000-000000000007\n    name: early block\n"
      "    reason_code: DLP.PII.EMAIL\n    action: block\n    priority: 10\n"
      "    detect:\n      patterns: ['gamma']\n");
  auto found = scan(*rules, "beta alpha gamma");
  REQUIRE(found.size() == 3);
  CHECK(found[0].rule_name == "early monitor");
  CHECK(found[1].rule_name == "early block");
  CHECK(found[2].rule_name == "late block");
  Decision d = decide(found);
  CHECK(d.verdict == Verdict::block);
  REQUIRE(d.deciding);
  CHECK(found[*d.deciding].rule_name == "early block");
  CHECK(decide({}).verdict == Verdict::allow);
  std::vector<Finding> monitor_only{found[0]};
  CHECK(decide(monitor_only).verdict == Verdict::monitor);
}

TEST_CASE("monitor mode turns block and redact into monitor, per rule and gateway-wide") {
  std::string two = kIban +
                    "  - id: 00000000-0000-4000-8000-000000000008\n    name: shadow\n"
                    "    reason_code: POLICY.CUSTOM\n    action: block\n    mode: monitor\n"
                    "    detect:\n      patterns: ['secret']\n";
  auto enforce = compile(two);
  auto found = scan(*enforce, "secret DE89370400440532013000");
  REQUIRE(found.size() == 2);
  for (const auto& f : found) {
    CHECK(f.action == (f.reason_code == "POLICY.CUSTOM" ? Action::monitor : Action::redact));
  }
  auto monitor = compile(two, CompileOptions{EnforcementMode::monitor});
  for (const auto& f : scan(*monitor, "secret DE89370400440532013000")) {
    CHECK(f.action == Action::monitor);
  }
}

TEST_CASE("stream mode finds a match split across chunks with absolute offsets") {
  auto rules = compile(kIban);
  Scanner scanner;
  std::string text = "first delta, then: pay to DE89 3704 0044 0532 0130 00 - done";
  auto found = stream_scan(scanner, rules, text, {30, 31, 40});
  REQUIRE(found.size() == 1);
  CHECK(found[0].start == 26);
  CHECK(found[0].end == 53);
  CHECK(stream_scan(scanner, rules, "DE89 3704 0044 0532 0130 01", {10}).empty());
}

TEST_CASE("stream mode agrees with block mode on the default pack for random chunkings") {
  auto pack = parse_pack(default_pack_yaml(), "<embedded>");
  REQUIRE(pack.ok());
  auto compiled = compile_rules(std::move(*pack));
  REQUIRE(compiled.ok());
  auto rules = *compiled;
  std::string text;
  for (const auto& r : rules->pack().rules) {
    for (const auto& m : r.examples.match) text += m + " \n filler words here. ";
  }
  Scanner scanner;
  std::vector<Finding> block;
  REQUIRE(
      scanner.scan(*rules, Scope::response, Surface::body, Layer::pre_template, text, block).ok());
  REQUIRE(block.size() > 30);
  std::mt19937 rng(1234);
  for (int round = 0; round < 8; ++round) {
    std::vector<std::size_t> cuts;
    std::size_t pos = 0;
    while (true) {
      pos += 1 + rng() % (round < 4 ? 7 : 200);
      if (pos >= text.size()) break;
      cuts.push_back(pos);
    }
    auto streamed = stream_scan(scanner, rules, text, cuts);
    INFO("round " << round);
    CHECK(same(streamed, block));
  }
}

TEST_CASE("a run a bounded pattern matches at every position is one finding up to the widest") {
  // x{2,4} matches at every end of a run of x: each match overlaps the one before. One finding
  // per position made a stream keep them all (a flood of zero-width characters took minutes).
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000031\n    name: run\n"
      "    reason_code: INJECTION.INVISIBLE_UNICODE\n    action: redact\n"
      "    detect:\n      patterns: ['x{2,4}']\n");
  auto short_run = scan(*rules, "a xxxxxxxxxx b xx", Layer::pre_template, Scope::response);
  REQUIRE(short_run.size() == 2);
  CHECK(short_run[0].start == 2);
  CHECK(short_run[0].end == 12);
  CHECK(short_run[1].start == 15);
  CHECK(short_run[1].end == 17);
  // A union stops growing at kMaxPatternWidth; the next finding starts where it ends.
  const std::string flood = "a " + std::string(2 * kMaxPatternWidth + 100, 'x') + " b";
  auto block = scan(*rules, flood, Layer::pre_template, Scope::response);
  REQUIRE(block.size() == 3);
  CHECK(block[0].start == 2);
  CHECK(block[0].end == 2 + kMaxPatternWidth);
  CHECK(block[1].start == block[0].end);
  CHECK(block[1].end == block[1].start + kMaxPatternWidth);
  CHECK(block[2].start == block[1].end);
  CHECK(block[2].end == flood.size() - 2);
  // A stream reports the same findings, whatever its chunks (a finding reported again grows).
  Scanner scanner;
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t pos = 1 + rng() % 5; pos < flood.size(); pos += 1 + rng() % 300) {
      cuts.push_back(pos);
    }
    INFO("round " << round);
    CHECK(same(stream_scan(scanner, rules, flood, cuts), block));
  }
}

TEST_CASE("stable_offset never passes the start of a match still to come") {
  auto rules = compile(kIban);
  Scanner scanner;
  auto stream = scanner.open_stream(rules, Scope::response, Surface::body, Layer::pre_template);
  REQUIRE(stream.ok());
  std::vector<Finding> out;
  std::string head(200, 'x');
  head += " DE89 3704 0044";
  REQUIRE(scanner.feed(*stream, head, out).ok());
  CHECK(stream->stable_offset() <= 201);  // the IBAN starts at 201 and is not complete yet
  REQUIRE(scanner.feed(*stream, " 0532 0130 00 and more text after it", out).ok());
  REQUIRE(scanner.finish(*stream, out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].start == 201);
}

TEST_CASE("streams only exist for the response scope") {
  auto rules = compile(kIban);
  Scanner scanner;
  auto s = scanner.open_stream(rules, Scope::request, Surface::body, Layer::pre_template);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == "rules.no_stream_database");
}

TEST_CASE("token spans recover the start for patterns compiled without SOM") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000009\n    name: key\n"
      "    reason_code: DLP.SECRET.OPENAI_API_KEY\n"
      "    detect:\n      span: token\n      patterns: "
      "['sk-[A-Za-z0-9]{10,80}T3BlbkFJ[A-Za-z0-9]{4,80}']\n");
  std::string text = "KEY=sk-abcdefghij0123T3BlbkFJzzzz9 next";
  auto found = scan(*rules, text);
  REQUIRE(found.size() == 1);
  CHECK(text.substr(found[0].start, found[0].end - found[0].start) ==
        "sk-abcdefghij0123T3BlbkFJzzzz9");
}

TEST_CASE("serialized databases load back without compiling and scan the same") {
  auto rules = compile(kIban);
  auto bytes = rules->serialize();
  REQUIRE(bytes.ok());
  auto pack = rules->pack();
  auto loaded = load_compiled_rules(pack, *bytes);
  REQUIRE(loaded.ok());
  CHECK(scan(**loaded, "DE89 3704 0044 0532 0130 00").size() == 1);
  SECTION("another pack is refused") {
    auto other = pack;
    other.rules[0].priority = 7;
    auto r = load_compiled_rules(other, *bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "rules.cache_mismatch");
  }
  SECTION("truncated bytes are refused") {
    auto r = load_compiled_rules(pack, std::string_view(*bytes).substr(0, bytes->size() - 10));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "rules.cache_corrupt");
  }
  SECTION("damaged database bytes are refused") {
    std::string bad = *bytes;
    bad[bad.size() - 40] ^= 0x5a;
    bad[60] ^= 0x5a;
    auto r = load_compiled_rules(pack, bad);
    REQUIRE_FALSE(r.ok());
  }
  CHECK(engine_cache_key().rfind("hs ", 0) == 0);
}

TEST_CASE("gated databases load back from the serialized bytes and scan the same") {
  auto rules =
      compile(kIban +
              "  - id: 00000000-0000-4000-8000-000000000013\n    name: BIC\n"
              "    reason_code: DLP.PII.SWIFT_BIC\n    action: monitor\n"
              "    priority: 150\n"
              "    detect:\n      patterns: ['\\b[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\\b']\n");
  REQUIRE(rules->database_count() == 3);  // block (IBAN), gated (BIC), stream (both)
  auto bytes = rules->serialize();
  REQUIRE(bytes.ok());
  auto loaded = load_compiled_rules(rules->pack(), *bytes);
  REQUIRE(loaded.ok());
  CHECK((*loaded)->database_count() == 3);
  const std::string text = "pay DE89 3704 0044 0532 0130 00 via DEUTDEFF500 or deutdeff";
  auto found = scan(**loaded, text);
  REQUIRE(found.size() == 2);
  CHECK(same(found, scan(*rules, text)));
  CHECK(text.substr(found[1].start, found[1].end - found[1].start) == "DEUTDEFF500");
}

TEST_CASE("one compiled set serves many threads, each with its own Scanner") {
  auto rules = compile(kIban);
  std::vector<std::thread> threads;
  std::atomic<int> hits{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      Scanner scanner;
      std::vector<Finding> out;
      for (int i = 0; i < 200; ++i) {
        out.clear();
        if (scanner
                .scan(*rules, Scope::request, Surface::body, Layer::pre_template,
                      "x DE89 3704 0044 0532 0130 00 y", out)
                .ok() &&
            out.size() == 1) {
          ++hits;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(hits == 800);
}

TEST_CASE("a Scanner moves to a newly compiled set (reload) and keeps serving the old one") {
  auto a = compile(kIban);
  auto b = compile(
      "  - id: 00000000-0000-4000-8000-00000000000a\n    name: word\n"
      "    reason_code: POLICY.CUSTOM\n    detect:\n      patterns: ['(?:[a-z]{1,8} "
      "){3,6}zebra']\n");
  Scanner scanner;
  std::vector<Finding> out;
  REQUIRE(scanner
              .scan(*a, Scope::request, Surface::body, Layer::pre_template,
                    "DE89370400440532013000", out)
              .ok());
  REQUIRE(
      scanner
          .scan(*b, Scope::request, Surface::body, Layer::pre_template, "one two three zebra", out)
          .ok());
  REQUIRE(scanner
              .scan(*a, Scope::request, Surface::body, Layer::pre_template,
                    "GB82WEST12345698765432", out)
              .ok());
  CHECK(out.size() == 3);
}

TEST_CASE("policy rules: tools, models, domains, limits") {
  auto rules = compile(
      "  - id: 2c1d0000-0000-4000-8000-000000000001\n    name: tools\n"
      "    reason_code: POLICY.TOOL_DENIED\n    kind: tool_permission\n    allowed_tools: "
      "[web_search]\n"
      "  - id: 2c1d0000-0000-4000-8000-000000000002\n    name: models\n"
      "    reason_code: POLICY.MODEL_DENIED\n    kind: model_permission\n"
      "    allowed_models: ['gpt-4o*', 'claude-*']\n    denied_models: [gpt-4o-mini]\n"
      "  - id: 2c1d0000-0000-4000-8000-000000000003\n    name: egress\n"
      "    reason_code: EGRESS.UNAPPROVED_DOMAIN\n    kind: egress_domains\n    allowed_domains: "
      "[example.com]\n"
      "  - id: 2c1d0000-0000-4000-8000-000000000004\n    name: tokens\n"
      "    reason_code: POLICY.MAX_TOKENS_EXCEEDED\n    kind: max_tokens\n    limit: 4096\n"
      "  - id: 2c1d0000-0000-4000-8000-000000000005\n    name: size\n"
      "    reason_code: POLICY.BODY_TOO_LARGE\n    kind: body_size\n    action: block\n    limit: "
      "1KiB\n");
  std::vector<Finding> out;
  std::vector<std::string_view> ok_tools{"web_search"}, bad_tools{"web_search", "shell"};
  check_tools(*rules, Scope::request, ok_tools, out);
  CHECK(out.empty());
  check_tools(*rules, Scope::request, bad_tools, out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].reason_code == "POLICY.TOOL_DENIED");
  out.clear();
  check_model(*rules, Scope::request, "gpt-4o-2024-08-06", out);
  check_model(*rules, Scope::request, "claude-3-5-sonnet", out);
  CHECK(out.empty());
  check_model(*rules, Scope::request, "gpt-4o-mini", out);
  check_model(*rules, Scope::request, "llama3", out);
  CHECK(out.size() == 2);
  out.clear();
  check_domain(*rules, Scope::response, "api.EXAMPLE.com", out);
  check_domain(*rules, Scope::response, "example.com.", out);
  CHECK(out.empty());
  check_domain(*rules, Scope::response, "notexample.com", out);
  CHECK(out.size() == 1);
  out.clear();
  check_max_tokens(*rules, Scope::request, 4096, out);
  CHECK(out.empty());
  check_max_tokens(*rules, Scope::request, 4097, out);
  check_body_size(*rules, Scope::request, 1025, out);
  CHECK(out.size() == 2);
  CHECK(glob_match("a*b*c", "axxbyyc"));
  CHECK_FALSE(glob_match("a*b", "axxbc"));
}

TEST_CASE("wide repeats of token spans compile unbounded and the span stays within the width") {
  // The compiler drops the {8,600} bound for Hyperscan; the recovered span never reaches back
  // further than the pattern's width as written, and a character class in a bracket with a
  // literal ']' or an escaped '{' is not mistaken for a repeat.
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000009\n    name: tok\n"
      "    reason_code: DLP.SECRET.JWT\n    action: redact\n    priority: 10\n"
      "    detect:\n      span: token\n"
      "      patterns: ['tk_[A-Za-z0-9]{8,600}[]\\{]']\n");
  auto found = scan(*rules, "use tk_abcdefgh12] now");
  REQUIRE(found.size() == 1);
  CHECK(found[0].start == 4);
  CHECK(found[0].end == 17);
  CHECK(scan(*rules, "use tk_abc] now").empty());
  const std::string long_token = "tk_" + std::string(700, 'a') + "{";
  auto wide = scan(*rules, long_token);
  REQUIRE(wide.size() == 1);
  CHECK(wide[0].end - wide[0].start <= 604);
}

TEST_CASE("a surface whose rules are another's plus a few scans a shared and an extra database") {
  // Rule 0 applies to the body and the tools, rule 1 to the tools only: the tools surface scans
  // the body's database plus a small one of rule 1, in block and in stream mode, and finds what
  // one database of both would find.
  const std::string yaml =
      "  - id: 00000000-0000-4000-8000-000000000021\n    name: both\n"
      "    reason_code: DLP.PII.EMAIL\n    priority: 200\n    matched_in: [body, tools]\n"
      "    detect:\n      patterns: ['alpha[0-9]{3}', 'gamma[0-9]{2}']\n"
      "  - id: 00000000-0000-4000-8000-000000000022\n    name: tools only\n"
      "    reason_code: INJECTION.INDIRECT_TOOL_RESULT\n    priority: 40\n"
      "    matched_in: [tools]\n    layers: [tool-call]\n"
      "    detect:\n      patterns: ['beta[0-9]{5}']\n";
  auto rules = compile(yaml);
  CHECK(rules->database_count() == 4);  // {both}, {tools only}: block + stream each
  CHECK(rules->max_match_length(Scope::request, Surface::tools) == 9);
  CHECK(rules->max_match_length(Scope::request, Surface::body) == 8);
  const std::string text = "x alpha123 y beta45678 z gamma12 w";
  auto tools = scan(*rules, text, Layer::tool_call, Scope::request, Surface::tools);
  REQUIRE(tools.size() == 3);
  CHECK(tools[0].rule_index == 1);  // priority 40 first
  CHECK(tools[0].start == 13);
  CHECK(tools[0].end == 22);
  CHECK(tools[1].start == 2);
  CHECK(tools[2].start == 25);
  auto body = scan(*rules, text, Layer::tool_call, Scope::request, Surface::body);
  CHECK(body.size() == 2);

  Scanner scanner;
  for (std::size_t chunk : {1u, 5u, 100u}) {
    auto stream = scanner.open_stream(rules, Scope::response, Surface::tools, Layer::tool_call);
    REQUIRE(stream.ok());
    std::vector<Finding> out;
    for (std::size_t pos = 0; pos < text.size(); pos += chunk) {
      REQUIRE(scanner.feed(*stream, std::string_view(text).substr(pos, chunk), out).ok());
    }
    REQUIRE(scanner.finish(*stream, out).ok());
    std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
      return std::tie(a.priority, a.start) < std::tie(b.priority, b.start);
    });
    INFO("chunk " << chunk);
    CHECK(same(out, tools));
  }

  auto bytes = rules->serialize();
  REQUIRE(bytes.ok());
  auto loaded = load_compiled_rules(rules->pack(), *bytes);
  REQUIRE(loaded.ok());
  CHECK(same(scan(**loaded, text, Layer::tool_call, Scope::request, Surface::tools), tools));
}

TEST_CASE("the default pack's tools surface shares the body's database") {
  auto pack = parse_pack(default_pack_yaml(), "<embedded>");
  REQUIRE(pack.ok());
  auto compiled = compile_rules(std::move(*pack));
  REQUIRE(compiled.ok());
  const CompiledRules& rules = **compiled;
  // Headers/URL, body, and the tool-only rules: three pattern sets, each in block and stream
  // mode, a gated block database of the patterns behind the capitals gate for one of the first
  // two, and one of the patterns behind the context gate (passport, BIC, date of birth) for the
  // body's. A fourth set (the tools surface as a whole) would double the compile time.
  CHECK(rules.database_count() == 9);
  CHECK(rules.max_match_length(Scope::request, Surface::tools) >=
        rules.max_match_length(Scope::request, Surface::body));
  std::string text;
  for (const auto& r : rules.pack().rules) {
    for (const auto& m : r.examples.match) text += m + " \n filler words here. ";
  }
  // Every rule that applies to the body finds on the tools surface what it finds on the body.
  auto body = scan(rules, text, Layer::tool_call, Scope::request, Surface::body);
  auto tools = scan(rules, text, Layer::tool_call, Scope::request, Surface::tools);
  std::vector<Finding> shared;
  for (const Finding& f : tools) {
    const auto& in = rules.rule(f.rule_index).matched_in;
    if (std::find(in.begin(), in.end(), Surface::body) != in.end()) shared.push_back(f);
  }
  CHECK(body.size() > 30);
  CHECK(same(shared, body));
  CHECK(tools.size() > shared.size());  // and the tool-only rules find theirs
}

TEST_CASE("two patterns of one rule reporting the same span: any that holds its boundary wins") {
  // `abc\b` fails its trailing boundary in "abcd"; `abc` matches the same span. The finding
  // must not depend on which of the two Hyperscan reported first.
  for (const char* patterns : {"['abc\\b', 'abc']", "['abc', 'abc\\b']"}) {
    auto rules = compile(std::string("  - id: 00000000-0000-4000-8000-000000000023\n") +
                         "    name: abc\n    reason_code: DLP.PII.EMAIL\n" +
                         "    detect:\n      patterns: " + patterns + "\n");
    INFO(patterns);
    auto found = scan(*rules, "x abcd");
    REQUIRE(found.size() == 1);
    CHECK(found[0].start == 2);
    CHECK(found[0].end == 5);
  }
}

TEST_CASE("a pattern behind the capitals gate finds in block mode what the whole text has") {
  // Every match of the BIC-like pattern holds a run of 6 capitals, so block mode scans it only
  // on the slices around such runs (compiled_internal.hpp, kGates); stream mode scans every
  // pattern over the whole text. They must agree wherever the runs, the context words and the
  // slice edges fall.
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000011\n    name: BIC near bank words\n"
      "    reason_code: DLP.PII.SWIFT_BIC\n    action: monitor\n    priority: 150\n"
      "    scope: [response]\n"
      "    detect:\n"
      "      patterns: ['\\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?:\\b)']\n"
      "      context: { words: [bank, swift code], within: 40 }\n"
      "  - id: 00000000-0000-4000-8000-000000000012\n    name: IBAN\n"
      "    reason_code: DLP.PII.IBAN\n    action: redact\n    priority: 100\n"
      "    scope: [response]\n"
      "    detect:\n      patterns: ['\\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\\b']\n"
      "      validator: iban\n");
  // One database: the IBAN's block database, the BIC's gated one, and the stream one of both.
  // (Its context words are not required: with required rare words it would wait behind the
  // context gate instead.)
  REQUIRE(rules->database_count() == 3);
  // Runs of capitals and digits: BICs, parts of one, longer words in capitals.
  const char* words[] = {
      "the", "bank", "swift code", "pay", "to", "and", "DE89 3704 0044 0532 0130 00",
      "\n",  "  ",   "x",          "Ltd."};
  CHECK(block_equals_stream(rules, words, 77, 400, 5) > 200);
}

TEST_CASE("patterns behind the context gate find in block mode what the whole text has") {
  // Rules whose context words are required and rare wait for them: block mode scans their
  // patterns only around the words (compiled_internal.hpp, ContextGate); stream mode scans every
  // pattern over the whole text. They must agree wherever the words, their case, the glued
  // look-alikes and the window edges fall.
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000041\n    name: passport\n"
      "    reason_code: DLP.PII.PASSPORT\n    action: redact\n    priority: 100\n"
      "    scope: [request, response]\n"
      "    detect:\n"
      "      patterns: ['\\b[A-Z]{1,2}[0-9]{6,8}\\b', '\\b[0-9]{9}\\b']\n"
      "      context: { words: [passport, passport no, d.o.b], within: 40, required: true }\n"
      "  - id: 00000000-0000-4000-8000-000000000042\n    name: routing\n"
      "    reason_code: DLP.PII.US_BANK_ROUTING\n    action: redact\n    priority: 110\n"
      "    scope: [request, response]\n"
      "    detect:\n      patterns: ['\\b[0-9]{9}\\b']\n      validator: aba_routing\n"
      "      context: { words: [aba, transit number, wire], within: 20, required: true }\n"
      "  - id: 00000000-0000-4000-8000-000000000043\n    name: BIC\n"
      "    reason_code: DLP.PII.SWIFT_BIC\n    action: monitor\n    priority: 150\n"
      "    scope: [request, response]\n"
      "    detect:\n"
      "      patterns: ['\\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?:\\b)']\n"
      "      context: { words: [bank, swift code], within: 40, required: true }\n");
  // Request scope: one block database (the context words' pieces), the context-gated one.
  // Response scope adds the stream database, which scans every pattern.
  REQUIRE(rules->database_count() == 3);
  // Runs of capitals and digits: passport numbers, BICs, parts of them, words in capitals.
  const char* words[] = {"the",
                         "passport",
                         "Passport no.",
                         "PASSPORT",
                         "xpassport",
                         "passports",
                         "aba",
                         "abax",
                         "ABA",
                         "transit\n number",
                         "wire",
                         "d.o.b",
                         "bank",
                         "swift\t code",
                         "code",
                         "and",
                         "\n",
                         "  ",
                         "x",
                         "021000021",
                         "123456789",
                         "DEUTDEFF500"};
  CHECK(block_equals_stream(rules, words, 91, 600, 2) > 300);
}

TEST_CASE("only rules that wait for rare required words go behind the context gate") {
  const std::string head =
      "  - id: 00000000-0000-4000-8000-000000000044\n    name: passport\n"
      "    reason_code: DLP.PII.PASSPORT\n"
      "    detect:\n      patterns: ['\\b[A-Z]{1,2}[0-9]{6,8}\\b']\n";
  // Every rule here scans requests and responses: a block and a stream database. Rare words
  // add the gated block database of the pattern (the block one then holds the words' pieces).
  CHECK(compile(head + "      context: {words: [passport], within: 40, required: true}\n")
            ->database_count() == 3);
  // Not required, an everyday word, a word of one letter, or no context: not gated.
  CHECK(compile(head + "      context: {words: [passport], within: 40}\n")->database_count() == 2);
  CHECK(compile(head + "      context: {words: [passport, you are], within: 40, required: true}\n")
            ->database_count() == 2);
  CHECK(compile(head + "      context: {words: [passport, 'p n'], within: 40, required: true}\n")
            ->database_count() == 2);
  CHECK(compile(head)->database_count() == 2);
  // Rare words, but patterns of digits alone: Hyperscan skips fast over text without digits,
  // and the words would only add literals to the main database.
  CHECK(compile("  - id: 00000000-0000-4000-8000-000000000047\n    name: routing\n"
                "    reason_code: DLP.PII.US_BANK_ROUTING\n"
                "    detect:\n      patterns: ['\\b[0-9]{9}\\b']\n"
                "      context: {words: [routing, aba], within: 40, required: true}\n")
            ->database_count() == 2);
  // A pattern that spells its own context word already waits for it.
  CHECK(compile("  - id: 00000000-0000-4000-8000-000000000045\n    name: key file\n"
                "    reason_code: DLP.SECRET.GCP_SERVICE_ACCOUNT\n"
                "    detect:\n      patterns: ['\"private_key_id\":\\s?\"[0-9a-f]{40}\"']\n"
                "      context: {words: [private_key_id], within: 40, required: true}\n")
            ->database_count() == 2);
}

TEST_CASE("a text with more context words than the gate keeps is scanned whole") {
  // Past 1,024 pieces the gate stops recording them (memory must not grow with a hostile
  // body) and scans the whole text: the number after the 1,101st word is still found.
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000048\n    name: passport\n"
      "    reason_code: DLP.PII.PASSPORT\n"
      "    detect:\n      patterns: ['\\b[A-Z]{1,2}[0-9]{6,8}\\b']\n"
      "      context: {words: [passport], within: 40, required: true}\n");
  REQUIRE(rules->database_count() == 3);
  std::string text;
  for (int i = 0; i < 1100; ++i) text += "passport ";
  for (int i = 0; i < 3000; ++i) text += "filler ";  // the kept slices cover a third of it
  text += "passport X1234567";
  auto found = scan(*rules, text);
  REQUIRE(found.size() == 1);
  CHECK(found[0].start == text.size() - 8);
}

TEST_CASE("the context-gated database loads back from the serialized bytes and scans the same") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000046\n    name: passport\n"
      "    reason_code: DLP.PII.PASSPORT\n"
      "    detect:\n      patterns: ['\\b[A-Z]{1,2}[0-9]{6,8}\\b']\n"
      "      context: {words: [passport], within: 40, required: true}\n" +
      kIban);
  // Block (the IBAN and the word), context-gated (the passport), stream (both).
  REQUIRE(rules->database_count() == 3);
  auto bytes = rules->serialize();
  REQUIRE(bytes.ok());
  auto loaded = load_compiled_rules(rules->pack(), *bytes);
  REQUIRE(loaded.ok());
  CHECK((*loaded)->database_count() == 3);
  const std::string text = "passport C01X00T47 or X1234567; pay DE89 3704 0044 0532 0130 00";
  auto found = scan(**loaded, text);
  REQUIRE(found.size() == 2);
  CHECK(same(found, scan(*rules, text)));
  auto passport = std::find_if(found.begin(), found.end(), [](const Finding& f) {
    return f.reason_code == "DLP.PII.PASSPORT";
  });
  REQUIRE(passport != found.end());
  CHECK(text.substr(passport->start, passport->end - passport->start) == "X1234567");
}

TEST_CASE("a match hidden behind an earlier start of the same end is found, block and stream") {
  // Hyperscan reports each match end with its leftmost start only: "2024 4539 ..." is the
  // leftmost start of the card's end, fails Luhn, and used to hide the card behind it.
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000031\n    name: card\n"
      "    reason_code: DLP.PII.CREDIT_CARD\n    action: redact\n    priority: 100\n"
      "    detect:\n      patterns: ['\\b(?:[0-9][ -]?){11,18}[0-9]\\b']\n"
      "      validator: luhn\n" +
      kIban);
  Scanner scanner;
  struct Case {
    const char* text;
    const char* found;  // the finding's text, or "" for none
  };
  for (const Case& c :
       {Case{"ref 2024 4539 1488 0343 6467", "4539 1488 0343 6467"},
        Case{"card no 7 4539148803436467", "4539148803436467"},
        Case{"order 84 4539 1488 0343 6467 ok", "4539 1488 0343 6467"},
        Case{"ref AB12 DE89370400440532013000", "DE89370400440532013000"},
        Case{"pay XDE89 DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"},
        Case{"ref 2024 4539 1488 0343 6468", ""}, Case{"x4539148803436467", ""}}) {
    INFO(c.text);
    const std::string text = c.text;
    auto found = scan(*rules, text);
    if (*c.found == 0) {
      CHECK(found.empty());
    } else {
      REQUIRE(found.size() == 1);
      CHECK(text.substr(found[0].start, found[0].end - found[0].start) == c.found);
    }
    // Response scope in stream mode, one byte at a time: the same.
    std::vector<std::size_t> cuts;
    for (std::size_t k = 1; k < text.size(); ++k) cuts.push_back(k);
    auto response = compile(
        "  - id: 00000000-0000-4000-8000-000000000032\n    name: card\n"
        "    reason_code: DLP.PII.CREDIT_CARD\n    action: redact\n    priority: 100\n"
        "    scope: [response]\n"
        "    detect:\n      patterns: ['\\b(?:[0-9][ -]?){11,18}[0-9]\\b']\n"
        "      validator: luhn\n"
        "  - id: 00000000-0000-4000-8000-000000000033\n    name: IBAN\n"
        "    reason_code: DLP.PII.IBAN\n    action: redact\n    priority: 100\n"
        "    scope: [response]\n"
        "    detect:\n      patterns: ['\\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\\b']\n"
        "      validator: iban\n");
    auto block = scan(*response, text, Layer::pre_template, Scope::response);
    CHECK(same(block, found));
    CHECK(same(stream_scan(scanner, response, text, cuts), block));
  }
}

TEST_CASE("later starts are tried for patterns whose shortest match is one byte") {
  // The leftmost start of the end at 3 is 1, where the cut `\b` fails; the match from 2 is one
  // byte long, so the bytes after it say nothing about whether it can start there.
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000041\n    name: short\n"
      "    reason_code: DLP.PII.EMAIL\n    action: monitor\n    priority: 200\n"
      "    scope: [response]\n"
      "    detect:\n      patterns: ['\\b.(?:[A-Z]|\\B)']\n");
  const std::string text = ",{M8";
  auto block = scan(*rules, text, Layer::pre_template, Scope::response);
  REQUIRE(block.size() == 1);
  CHECK(block[0].start == 2);
  CHECK(block[0].end == 3);
  Scanner scanner;
  CHECK(same(stream_scan(scanner, rules, text, {1, 2, 3}), block));
}

TEST_CASE("a short text scanned again is answered as a fresh scan would") {
  // The cache of short texts keys on the rule set, the scope, the surface, the layer and the
  // bytes: 400 distinct texts through 64 slots, scanned as the body and as headers (the rule
  // covers only headers) and against two rule sets, each answer compared with a new Scanner's.
  const auto headers_only = compile(
      "  - id: 00000000-0000-4000-8000-0000000000c1\n    name: token\n"
      "    reason_code: DLP.SECRET.GITHUB_TOKEN\n    action: block\n    priority: 10\n"
      "    matched_in: [headers]\n"
      "    detect:\n      patterns: ['tok_[0-9]{4}']\n");
  const auto iban = compile(kIban);
  Scanner cached;
  std::size_t hits = 0;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 400; ++k) {
      const std::string text = "x " + std::to_string(k) + " tok_" + std::to_string(1000 + k) +
                               (k % 3 == 0 ? " DE89 3704 0044 0532 0130 00" : "");
      for (const auto& rules : {headers_only, iban}) {
        for (Surface surface : {Surface::body, Surface::headers}) {
          std::vector<Finding> got, want;
          REQUIRE(
              cached.scan(*rules, Scope::request, surface, Layer::pre_template, text, got).ok());
          Scanner fresh;
          REQUIRE(
              fresh.scan(*rules, Scope::request, surface, Layer::pre_template, text, want).ok());
          INFO(text);
          REQUIRE(same(got, want));
          for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i].rule_id == want[i].rule_id);
          hits += !got.empty();
        }
      }
    }
  }
  // Headers find the token in every text; the IBAN rule (body only) the IBAN in every third.
  CHECK(hits == 3 * (400 + 134));
}

TEST_CASE("a cached short text's findings follow the rule set that is passed") {
  // The same Scanner, the same text, alternately with a rule set that finds the IBAN and one
  // that has no such rule: each answer is that set's.
  const auto with = compile(kIban);
  const auto without = compile(
      "  - id: 00000000-0000-4000-8000-0000000000c2\n    name: other\n"
      "    reason_code: DLP.SECRET.GITHUB_TOKEN\n    action: block\n    priority: 10\n"
      "    detect:\n      patterns: ['tok_[0-9]{4}']\n");
  Scanner scanner;
  const std::string text = "pay to DE89 3704 0044 0532 0130 00";
  for (int k = 0; k < 4; ++k) {
    std::vector<Finding> a, b;
    REQUIRE(scanner.scan(*with, Scope::request, Surface::body, Layer::pre_template, text, a).ok());
    REQUIRE(
        scanner.scan(*without, Scope::request, Surface::body, Layer::pre_template, text, b).ok());
    CHECK(a.size() == 1);
    CHECK(b.empty());
  }
}
