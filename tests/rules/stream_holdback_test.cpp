// How far stable_offset() trails the text of a stream (scanner.hpp): only by what could still
// become a finding, and never past the start of a finding reported later.

#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"
#include "rules/text_fold.hpp"

using namespace edgeward::rules;

namespace {

std::shared_ptr<const CompiledRules> compile(const std::string& rules_yaml) {
  auto pack =
      parse_pack("apiVersion: edgeward/v1\nkind: RulePack\nname: t\nrules:\n" + rules_yaml, "t");
  if (!pack.ok()) FAIL(pack.error().message);
  auto compiled = compile_rules(std::move(*pack), {});
  if (!compiled.ok()) FAIL(compiled.error().message);
  return *compiled;
}

const std::string kEmail =
    "  - id: 00000000-0000-4000-8000-000000000010\n    name: e-mail\n"
    "    reason_code: DLP.PII.EMAIL\n    action: redact\n    priority: 100\n"
    "    detect:\n      span: token\n"
    "      patterns: ['[A-Za-z0-9._%+-]@(?:[A-Za-z0-9-]{1,63}\\.){1,4}[A-Za-z]{2,24}\\b']\n"
    "      validator: email\n";

const std::string kIban =
    "  - id: 00000000-0000-4000-8000-000000000011\n    name: IBAN\n"
    "    reason_code: DLP.PII.IBAN\n    action: redact\n    priority: 100\n"
    "    detect:\n      patterns: ['\\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\\b']\n"
    "      validator: iban\n";

struct Fed {
  Scanner scanner;
  edgeward::Result<ScanStream> opened;
  std::vector<Finding> out;
  explicit Fed(const std::shared_ptr<const CompiledRules>& rules, Layer layer = Layer::pre_template)
      : opened(scanner.open_stream(rules, Scope::response, Surface::body, layer)) {
    REQUIRE(opened.ok());
  }
  ScanStream& stream() { return *opened; }
  // Feeds `chunk`; returns how many bytes the stream holds back after it.
  std::uint64_t feed(std::string_view chunk) {
    REQUIRE(scanner.feed(stream(), chunk, out).ok());
    return stream().bytes_seen() - stream().stable_offset();
  }
};

}  // namespace

TEST_CASE("English text is held only as far as a match could still begin") {
  Fed f(compile(kEmail));
  // A space cannot be part of an address: nothing is held after it.
  CHECK(f.feed("the quick brown fox ") == 0);
  // A word can still be an address's local part: it is held, and no more.
  CHECK(f.feed("jumps") == 5);
  CHECK(f.feed(" over ") == 0);
}

TEST_CASE("a partial IBAN is held from its start, other text is not") {
  Fed f(compile(kIban));
  // No upper-case letter: nothing here can start an IBAN.
  CHECK(f.feed("pay the quick brown fox ") == 0);
  CHECK(f.feed("to DE89 3704") == 9);  // "DE89 3704" may still become an IBAN
  CHECK(f.stream().stable_offset() == 27);
  CHECK(f.feed(" 0044 0532 0130") == 24);
  // A candidate is decided once no longer end can be reported for its start (its width, 64,
  // past it): until then it holds.
  CHECK(f.feed(" 00, thanks") == 35);
  CHECK(f.feed(" for the quick transfer of all of it") == 0);
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].start == 27);
  CHECK(f.stream().stable_offset() >= f.out[0].end);
}

TEST_CASE("text is held only where a match's leading bytes could begin") {
  Fed f(compile(
      "  - id: 00000000-0000-4000-8000-000000000016\n    name: password\n"
      "    reason_code: DLP.SECRET.PASSWORD_ASSIGNMENT\n    action: redact\n    priority: 100\n"
      "    detect:\n      patterns: ['password\\s{0,3}[:=]\\s{0,3}\\S{4,40}']\n"));
  // Its alphabet is almost every byte; only "p", "pa", "pas", "pass..." can begin a match.
  CHECK(f.feed("the quick brown fox p") == 1);
  CHECK(f.feed("e") == 0);
  CHECK(f.feed("ers. the pa") == 2);
  CHECK(f.feed("ssword") == 8);
  // Only the first kCheckedPrefix (4) bytes are checked: past them, any byte of the alphabet.
  CHECK(f.feed(" is") == 11);
}

TEST_CASE("a url span holds the last word and the punctuation after it") {
  // The pattern also matches bytes that are no URL bytes ('!', '[', ' ', ...): the recovered
  // span can only start in the last run of URL bytes before the non-URL bytes at the end.
  Fed f(compile(
      "  - id: 00000000-0000-4000-8000-000000000015\n    name: image\n"
      "    reason_code: EGRESS.MARKDOWN_IMAGE_EXFIL\n    action: redact\n    priority: 100\n"
      "    detect:\n      span: url\n"
      "      patterns: ['!\\[[^\\]\\n]{0,100}\\]\\(https?://[^\\s)]{1,200}\\)']\n"));
  CHECK(f.feed("hello world. ![alt te") == 2);
  CHECK(f.feed("xt](") == 6);  // "text" then "](" (no URL bytes)
  CHECK(f.feed("http://example.com/a.png?d=1") == 28);
  // The match is complete: pending (a longer one may follow) from its span's start, the URL's.
  CHECK(f.feed(") and then more words") == 49);
  REQUIRE(f.scanner.finish(f.stream(), f.out).ok());
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].start == 25);
}

TEST_CASE("a match whose trailing context has not arrived holds its text") {
  Fed f(
      compile("  - id: 00000000-0000-4000-8000-000000000012\n    name: code\n"
              "    reason_code: DLP.PII.US_BANK_ROUTING\n    action: redact\n    priority: 100\n"
              "    detect:\n      patterns: ['\\b[0-9]{6}\\b']\n"
              "      context: {words: [code], within: 24, required: true}\n"));
  f.feed("your 123456");
  f.feed(" is ");  // the match has ended, its context window has not
  CHECK(f.stream().stable_offset() <= 5);
  f.feed("the code, and more words after it to fill the window");
  REQUIRE(f.out.size() == 1);
  CHECK(f.out[0].start == 5);
  CHECK(f.stream().stable_offset() > f.out[0].end);
}

TEST_CASE("rules of other layers hold nothing, an unread pattern holds its width") {
  auto rules = compile(
      "  - id: 00000000-0000-4000-8000-000000000013\n    name: tool only\n"
      "    reason_code: INJECTION.INDIRECT_TOOL_RESULT\n    action: redact\n"
      "    layers: [tool-call]\n    detect:\n      patterns: ['[a-z]{3,19}9']\n"
      "  - id: 00000000-0000-4000-8000-000000000014\n    name: posix\n"
      "    reason_code: DLP.PII.PHONE\n    action: redact\n"
      "    detect:\n      patterns: ['[[:digit:]]{3}-[[:digit:]]{4}']\n");
  Fed pre(rules, Layer::pre_template);
  // Only the POSIX rule applies; its pattern is not analysed, so its width (8) is held.
  CHECK(pre.feed("the quick brown fox ") == 8);
  Fed tool(rules, Layer::tool_call);
  CHECK(tool.feed("thequickbrownfoxjumpsover") == 20);  // both apply: the letters rule's width
}

TEST_CASE("default pack: no finding starts before an offset already declared stable") {
  auto pack = parse_pack(default_pack_yaml(), "<embedded>");
  REQUIRE(pack.ok());
  std::vector<std::string> secrets;
  for (const Rule& r : pack->rules) {
    for (const std::string& m : r.examples.match) secrets.push_back(m);
  }
  REQUIRE(!secrets.empty());
  auto compiled = compile_rules(std::move(*pack), {});
  REQUIRE(compiled.ok());
  const std::vector<std::string> words = {
      "the ",   "Quick ", "brown", " fox",  ", ",   "jumps\n", "over ",  "a ",    "lazy ",
      "dog. ",  "IBAN ",  "key",   ": ",    "\"",   "=",       "https:", "//",    "é",
      "naïve ", "1234",   "-",     "@",     "mail", ".com ",   "(",      ")",     "token ",
      "AKIA",   "ghp_",   "sk-",   "DE89 ", "\t",   "`",       "_",      "x9Z/+", "== "};
  std::mt19937 rng(20261123);
  Scanner scanner;
  int findings = 0;
  for (int round = 0; round < 400; ++round) {
    std::string text;
    const int parts = 5 + static_cast<int>(rng() % 40);
    for (int k = 0; k < parts; ++k) {
      text += rng() % 6 == 0 ? secrets[rng() % secrets.size()] : words[rng() % words.size()];
      if (rng() % 3 == 0) text += ' ';
    }
    std::vector<Finding> block;
    REQUIRE(
        scanner.scan(**compiled, Scope::response, Surface::body, Layer::pre_template, text, block)
            .ok());
    auto stream =
        scanner.open_stream(*compiled, Scope::response, Surface::body, Layer::pre_template);
    REQUIRE(stream.ok());
    std::vector<Finding> out;
    std::uint64_t stable = 0;
    bool ordered = true;
    std::vector<Finding> batch;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 20, text.size() - pos);
      batch.clear();
      REQUIRE(scanner.feed(*stream, std::string_view(text).substr(pos, n), batch).ok());
      for (const Finding& f : batch) {
        ordered &= f.start >= stable;
        grow_or_add(out, f);
      }
      ordered &= stream->stable_offset() >= stable;
      stable = stream->stable_offset();
      pos += n;
    }
    batch.clear();
    REQUIRE(scanner.finish(*stream, batch).ok());
    for (const Finding& f : batch) {
      ordered &= f.start >= stable;
      grow_or_add(out, f);
    }
    INFO("text: " << text);
    CHECK(ordered);
    // Block scans also look at the text with hidden characters folded (rules/text_fold.hpp);
    // streams do not, so there the block scan may find more.
    if (has_hidden_characters(text)) {
      CHECK(out.size() <= block.size());
    } else {
      CHECK(out.size() == block.size());
    }
    findings += static_cast<int>(out.size());
  }
  CHECK(findings > 100);  // the texts do exercise the rules
}
