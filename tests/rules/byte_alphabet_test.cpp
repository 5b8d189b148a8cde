// The byte alphabet of a pattern (rules/byte_alphabet.hpp): each form the analyser reads, and
// the forms it does not read falling back to every byte.

#include "rules/byte_alphabet.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>

using namespace edgeward::rules;

namespace {

ByteSet bytes_of(std::string_view s) {
  ByteSet out;
  for (char c : s) out.set(static_cast<unsigned char>(c));
  return out;
}

ByteSet range(unsigned lo, unsigned hi) {
  ByteSet out;
  for (unsigned b = lo; b <= hi; ++b) out.set(b);
  return out;
}

ByteAlphabet read(std::string_view p, bool caseless = false, bool utf8 = false) {
  ByteAlphabet a = analyse_pattern(p, caseless, utf8);
  INFO("pattern " << p);
  CHECK(a.understood);
  CHECK((a.first & ~a.bytes).none());
  return a;
}

void check_fallback(std::string_view p, bool utf8 = false) {
  ByteAlphabet a = analyse_pattern(p, false, utf8);
  INFO("pattern " << p);
  CHECK_FALSE(a.understood);
  CHECK(a.bytes.all());
  CHECK(a.first.all());
}

}  // namespace

TEST_CASE("literals: their bytes, the first one starts the match") {
  auto a = read("abc");
  CHECK(a.bytes == bytes_of("abc"));
  CHECK(a.first == bytes_of("a"));
  auto b = read("a{b");  // a '{' that is no quantifier is a literal
  CHECK(b.bytes == bytes_of("a{b"));
}

TEST_CASE("escapes: classes, hex, control bytes and punctuation") {
  CHECK(read("\\d+").bytes == range('0', '9'));
  auto w = read("\\w");
  CHECK(w.bytes == (range('0', '9') | range('a', 'z') | range('A', 'Z') | bytes_of("_")));
  auto s = read("\\s");
  CHECK(s.bytes.test(' '));
  CHECK(s.bytes.test('\n'));
  CHECK(s.bytes.test('\t'));
  CHECK_FALSE(s.bytes.test('a'));
  auto nd = read("\\D");
  CHECK(nd.bytes.test('a'));
  CHECK(nd.bytes.test(0xFF));
  CHECK_FALSE(nd.bytes.test('5'));
  CHECK_FALSE(read("\\W").bytes.test('_'));
  CHECK(read("\\S").bytes.test('x'));
  CHECK_FALSE(read("\\S").bytes.test(' '));
  CHECK(read("\\x41\\x{42}").bytes == bytes_of("AB"));
  CHECK(read("\\t\\n\\r").bytes == bytes_of("\t\n\r"));
  CHECK(read("a\\.b\\-").bytes == bytes_of("a.b-"));
  CHECK(read("\\xff").bytes.test(0xFF));
}

TEST_CASE("classes: ranges, negation, escapes, a leading close bracket") {
  CHECK(read("[a-c0-9_]").bytes == (range('a', 'c') | range('0', '9') | bytes_of("_")));
  auto n = read("[^a-z]");
  CHECK_FALSE(n.bytes.test('b'));
  CHECK(n.bytes.test('B'));
  CHECK(n.bytes.test(0x80));
  CHECK(read("[\\d\\-x]").bytes == (range('0', '9') | bytes_of("-x")));
  CHECK(read("[]a]").bytes == bytes_of("]a"));
  CHECK(read("[a-]").bytes == bytes_of("a-"));
  CHECK(read("[\\x00-\\x1f]").bytes == range(0, 0x1F));
  CHECK(read("[\\b]").bytes == range(8, 8));  // backspace inside a class
}

TEST_CASE("caseless: flag, inline, scoped, classes") {
  CHECK(read("ab", true).bytes == bytes_of("abAB"));
  CHECK(read("ab", true).first == bytes_of("aA"));
  CHECK(read("[a-c]", true).bytes == bytes_of("abcABC"));
  auto neg = read("[^a]", true);
  CHECK_FALSE(neg.bytes.test('a'));
  CHECK_FALSE(neg.bytes.test('A'));
  CHECK(read("(?i)ab").bytes == bytes_of("abAB"));
  CHECK(read("a(?i)b").bytes == bytes_of("abB"));
  CHECK(read("(?i:x)y").bytes == bytes_of("xXy"));
  CHECK(read("(?i)x(?-i)y").bytes == bytes_of("xXy"));
  CHECK(read("(a(?i)b|c)d").bytes == bytes_of("abBcCd"));  // (?i) lasts to the group's end
}

TEST_CASE("groups, alternation and quantifiers decide which bytes can start a match") {
  auto g = read("(?:ab|cd)e");
  CHECK(g.bytes == bytes_of("abcde"));
  CHECK(g.first == bytes_of("ac"));
  CHECK(read("a?b").first == bytes_of("ab"));
  CHECK(read("a*b").first == bytes_of("ab"));
  CHECK(read("a+b").first == bytes_of("a"));
  CHECK(read("a{0,3}b").first == bytes_of("ab"));
  CHECK(read("a{2}b").first == bytes_of("a"));
  CHECK(read("a{2,}?b").first == bytes_of("a"));
  CHECK(read("(?:a|)b").first == bytes_of("ab"));
  CHECK(read("(?<name>x)y").first == bytes_of("x"));
  auto empty = read("a*");  // may match empty: may start anywhere in its alphabet
  CHECK(empty.first == bytes_of("a"));
}

TEST_CASE("the bytes at each of the first offsets of a match") {
  auto lit = read("(?:password|login)\\s");
  CHECK(lit.at[0] == bytes_of("pl"));
  CHECK(lit.at[1] == bytes_of("ao"));
  CHECK(lit.at[2] == bytes_of("sg"));
  CHECK(lit.at[3] == bytes_of("si"));
  auto opt = read("a?bc");
  CHECK(opt.at[0] == bytes_of("ab"));
  CHECK(opt.at[1] == bytes_of("bc"));
  CHECK(opt.at[2] == bytes_of("c"));
  CHECK(opt.at[3].none());  // no match is longer than 3
  auto rep = read("x{2,}y");
  CHECK(rep.at[1] == bytes_of("x"));
  CHECK(rep.at[2] == bytes_of("xy"));
  CHECK(rep.at[3] == bytes_of("xy"));
  auto star = read("(?:ab)*c");
  CHECK(star.at[0] == bytes_of("ac"));
  CHECK(star.at[1] == bytes_of("b"));
  CHECK(star.at[2] == bytes_of("ac"));
  CHECK(star.at[3] == bytes_of("b"));
  auto many = read("[0-9]{1,3}(?:\\.[0-9]{1,3}){3}");
  CHECK(many.at[1] == (range('0', '9') | bytes_of(".")));
  auto anchored = read("ab$");  // the final newline may follow the match
  CHECK(anchored.at[2] == bytes_of("\n"));
  auto utf = read("\xC3\xA9t", false, true);
  CHECK(utf.at[1] == bytes_of("\xA9"));
  CHECK(utf.at[2] == bytes_of("t"));
  CHECK(analyse_pattern("\\p{L}", false).at[3].all());
}

TEST_CASE("zero-width assertions add no bytes, end anchors may leave a newline") {
  auto a = read("^\\bfoo\\B\\b");
  CHECK(a.bytes == bytes_of("fo"));
  CHECK(a.first == bytes_of("f"));
  CHECK(read("foo$").bytes == bytes_of("fo\n"));
  CHECK(read("foo\\Z").bytes == bytes_of("fo\n"));
  CHECK(read("\\Afoo\\z").bytes == bytes_of("fo"));
  auto look = read("(?=x)ab(?!c)(?<=b)(?<!d)");
  CHECK(look.bytes == bytes_of("ab"));
  CHECK(look.first == bytes_of("a"));
  CHECK(read("a(?#comment)b").bytes == bytes_of("ab"));
}

TEST_CASE("UTF-8 mode: a code point is one atom, folding and wide escapes reach every high byte") {
  auto e = read("\xC3\xA9?x", false, true);
  CHECK(e.bytes == bytes_of("\xC3\xA9x"));
  CHECK(e.first == bytes_of("\xC3x"));
  auto high = read("\\x{263A}", false, true);
  CHECK(high.bytes == range(0x80, 0xFF));
  auto folded = read("k", true, true);  // the Kelvin sign is a caseless k
  CHECK(folded.bytes.test('K'));
  CHECK(folded.bytes.test(0xE2));
  CHECK(folded.first.test(0xE2));
  auto cls = read("[a-\\x{100}]", false, true);
  CHECK(cls.bytes.test('z'));
  CHECK(cls.bytes.test(0xC4));
  CHECK_FALSE(cls.bytes.test('A'));
  // Without UTF-8 mode the same literal is two bytes, the second optional.
  auto raw = read("\xC3\xA9?x");
  CHECK(raw.first == bytes_of("\xC3"));
}

TEST_CASE("what the analyser does not read allows every byte") {
  check_fallback("\\p{L}+");
  check_fallback("(a)\\1");
  check_fallback("[[:alpha:]]+");
  check_fallback("(?x) a b ");
  check_fallback("\\Q.*\\E");
  check_fallback("\\101");
  check_fallback("\\cA");
  check_fallback("\\h+");
  check_fallback("x{,3}");
  check_fallback("(ab");
  check_fallback("ab)");
  check_fallback("[ab");
  check_fallback("*a");
  check_fallback("a**");
  check_fallback("[z-a]");
  check_fallback("\\x{263A}");  // not a byte outside UTF-8 mode
}

namespace {

std::uint32_t capital_run(std::string_view p, bool caseless = false) {
  const std::array<ByteSet, 1> classes = {range('A', 'Z')};
  ByteAlphabet a = analyse_pattern(p, caseless, false, false, classes);
  INFO("pattern " << p);
  CHECK(a.understood);
  return a.run[0];
}

}  // namespace

TEST_CASE("guaranteed runs: the shortest run of a class that every match holds") {
  CHECK(capital_run("[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?(?:\\b)") == 6);
  CHECK(capital_run("[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}") == 6);  // adjacent repeats join
  CHECK(capital_run("(?:AKIA|ASIA)[A-Z2-7]{16}") == 4);    // the class may be a digit
  CHECK(capital_run("-----BEGIN [A-Z ]*PRIVATE KEY-----") == 7);
  CHECK(capital_run("A(?:BC|D)EFG") == 5);  // the shorter branch decides
  CHECK(capital_run("[A-Z]{3} [A-Z]{3}") == 3);
  CHECK(capital_run("[A-Z]{2,}x[A-Z]{5}") == 5);  // the longest run anywhere in the match
  CHECK(capital_run("[a-z]{8}") == 0);
  CHECK(capital_run("[A-Z]{8}", true) == 0);  // caseless: any of them may be lowercase
  CHECK(capital_run("(?i:ABCDEFGH)") == 0);
  CHECK(capital_run("(?:ABCDEF)?x") == 0);  // optional: not guaranteed
}

TEST_CASE("patterns that read outside their match are marked, word boundaries are not") {
  const std::array<ByteSet, 1> classes = {range('A', 'Z')};
  for (const char* p : {"^ABCDEF", "ABCDEF$", "\\AABCDEF", "ABCDEF\\z", "ABCDEF\\Z"}) {
    ByteAlphabet a = analyse_pattern(p, false, false, false, classes);
    INFO("pattern " << p);
    CHECK(a.reads_outside);
  }
  for (const char* p : {"\\bABCDEF\\b", "ABCDEF(?:\\b)", "\\BABCDEF"}) {
    ByteAlphabet a = analyse_pattern(p, false, false, false, classes);
    INFO("pattern " << p);
    CHECK(a.understood);
    CHECK_FALSE(a.reads_outside);
  }
}

TEST_CASE("UTF-8 mode: a negated class naming a high code point still allows every high byte") {
  const std::array<ByteSet, 1> classes = {range('A', 'Z')};
  for (const char* p : {"[^\\x00-@\\[-\\xff]{6}", "[^\\x00-@\\[-\\x7f\\x{e9}]{6}"}) {
    ByteAlphabet a = analyse_pattern(p, false, true, false, classes);
    INFO("pattern " << p);
    REQUIRE(a.understood);
    CHECK(a.bytes.test(0xC4));  // U+0100 is C4 80
    CHECK(a.bytes.test(0x80));
    CHECK(a.run[0] == 0);  // not a run of capitals: the gate must not take it
  }
  // Without UTF-8 mode the complement is exact on bytes.
  ByteAlphabet bytes = analyse_pattern("[^\\x00-@\\[-\\xff]{6}", false, false, false, classes);
  CHECK(bytes.run[0] == 6);
}
