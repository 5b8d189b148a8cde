// Byte alphabet of a pattern (byte_alphabet.hpp): a recursive-descent reading of the regex that
// keeps, per sub-expression, the bytes it can match, the bytes a match can start with, and
// whether it can match the empty string (so that what follows it can start the match too).

#include "rules/byte_alphabet.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>

#include "core/hex.hpp"

namespace edgeward::rules {

namespace {

constexpr std::size_t kP = kCheckedPrefix;

// Lengths of guaranteed runs saturate here (repeat counts are read saturated as well).
constexpr std::uint32_t kRunCap = 1u << 20;

std::uint32_t sat_add(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{a} + b, kRunCap));
}

// What every match of a sub-expression holds of one run class (ByteAlphabet::run): whether it is
// made of the class only, and the leading, trailing and longest runs of the class it has at
// least. When `all`, each of them is the sub-expression's shortest match length.
struct Runs {
  bool all = true;
  std::uint32_t pre = 0;
  std::uint32_t suf = 0;
  std::uint32_t in = 0;
};

// A sub-expression: its bytes, first bytes and whether it can be empty; for the first kP
// offsets of what it matches, the bytes at each offset and the lengths it can have (lens[kP]:
// kP or more); its shortest match and its guaranteed runs per run class.
struct Node {
  ByteSet bytes;
  ByteSet first;
  bool nullable = true;
  std::array<ByteSet, kP> at{};
  std::bitset<kP + 1> lens = 1;  // the empty string
  std::uint32_t min_len = 0;
  std::array<Runs, kMaxRunClasses> runs{};
};

// `acc` followed by `a`, for the runs: a run may cross from one into the other.
void append_runs(Node& acc, const Node& a) {
  for (std::size_t k = 0; k < kMaxRunClasses; ++k) {
    const Runs r = acc.runs[k];
    const Runs& x = a.runs[k];
    Runs out;
    out.all = r.all && x.all;
    out.pre = r.all ? sat_add(acc.min_len, x.pre) : r.pre;
    out.suf = x.all ? sat_add(r.suf, a.min_len) : x.suf;
    out.in = std::max({r.in, x.in, sat_add(r.suf, x.pre)});
    acc.runs[k] = out;
  }
  acc.min_len = sat_add(acc.min_len, a.min_len);
}

// `acc` or `a`: only what both guarantee.
void union_runs(Node& acc, const Node& a) {
  for (std::size_t k = 0; k < kMaxRunClasses; ++k) {
    Runs& r = acc.runs[k];
    const Runs& x = a.runs[k];
    r.all = r.all && x.all;
    r.pre = std::min(r.pre, x.pre);
    r.suf = std::min(r.suf, x.suf);
    r.in = std::min(r.in, x.in);
  }
  acc.min_len = std::min(acc.min_len, a.min_len);
}

// `acc` followed by `a`, for the offset sets.
void append_prefix(Node& acc, const Node& a) {
  std::array<ByteSet, kP> at = acc.at;
  std::bitset<kP + 1> lens;
  for (std::size_t l = 0; l <= kP; ++l) {
    if (!acc.lens.test(l)) continue;
    for (std::size_t k = l; k < kP; ++k) at[k] |= a.at[k - l];
    for (std::size_t m = 0; m <= kP; ++m) {
      if (a.lens.test(m)) lens.set(std::min(l + m, kP));
    }
  }
  acc.at = at;
  acc.lens = lens;
}

void union_prefix(Node& acc, const Node& a) {
  for (std::size_t k = 0; k < kP; ++k) acc.at[k] |= a.at[k];
  acc.lens |= a.lens;
}

struct Quantifier {
  bool present = false;
  unsigned min = 1;
  unsigned max = 1;  // UINT_MAX: unbounded
};

// `a` repeated as `q` says, for the offset sets. Copies beyond the first kP are taken as
// optional: a superset of the offsets, and only the first kP offsets are kept anyway.
void repeat_prefix(Node& a, const Quantifier& q) {
  if (!q.present) return;
  Node r;
  const unsigned mandatory = std::min<unsigned>(q.min, kP);
  for (unsigned i = 0; i < mandatory; ++i) append_prefix(r, a);
  const unsigned optional =
      q.max == UINT_MAX ? kP : std::min<unsigned>(q.max - mandatory, static_cast<unsigned>(kP));
  for (unsigned i = 0; i < optional; ++i) {
    Node t = r;
    append_prefix(t, a);
    union_prefix(r, t);
  }
  a.at = r.at;
  a.lens = r.lens;
}

// `a` repeated as `q` says, for the runs: only the mandatory copies count.
void repeat_runs(Node& a, const Quantifier& q) {
  if (!q.present) return;
  if (q.min == 0) {
    for (Runs& r : a.runs) r = Runs{r.all, 0, 0, 0};
    a.min_len = 0;
    return;
  }
  const auto len = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{a.min_len} * q.min, kRunCap));
  for (Runs& r : a.runs) {
    if (r.all) {
      r.pre = r.suf = r.in = len;
    } else if (q.min >= 2) {
      r.in = std::max(r.in, sat_add(r.suf, r.pre));  // one copy's end meets the next's start
    }
  }
  a.min_len = len;
}

ByteSet range(unsigned lo, unsigned hi) {
  ByteSet s;
  for (unsigned b = lo; b <= hi && b < 256; ++b) s.set(b);
  return s;
}

ByteSet digits() {
  return range('0', '9');
}
ByteSet word() {
  return digits() | range('a', 'z') | range('A', 'Z') | range('_', '_');
}
// ASCII whitespace plus VT, NEL and NBSP: a superset of what \s matches without UCP.
ByteSet space() {
  return range('\t', '\r') | range(' ', ' ') | range(0x85, 0x85) | range(0xA0, 0xA0);
}
ByteSet high() {
  return range(0x80, 0xFF);
}

ByteSet fold_case(ByteSet s) {
  for (unsigned c = 'a'; c <= 'z'; ++c) {
    const unsigned u = c - 'a' + 'A';
    if (s.test(c) || s.test(u)) {
      s.set(c);
      s.set(u);
    }
  }
  return s;
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// One item of a class or one escape: either a single code point (usable as a range end) or a
// set of bytes (\d, \w, ...).
struct Item {
  bool is_set = false;
  std::uint32_t value = 0;
  ByteSet set;
};

class Parser {
 public:
  Parser(std::string_view p, bool utf8, std::span<const ByteSet> run_classes)
      : p_(p), utf8_(utf8), run_classes_(run_classes) {}

  bool failed() const { return failed_; }
  bool at_end() const { return i_ == p_.size(); }
  bool caseless_seen() const { return caseless_seen_; }
  bool reads_outside() const { return reads_outside_; }

  // alternation: seq ('|' seq)*, up to an unmatched ')' or the end.
  Node alternation(bool& caseless) {
    Node out;
    out.nullable = false;
    bool first_alt = true;
    for (;;) {
      Node s = sequence(caseless);
      if (failed_) return out;
      out.bytes |= s.bytes;
      out.first |= s.first;
      out.nullable = first_alt ? s.nullable : (out.nullable || s.nullable);
      if (first_alt) {
        out.at = s.at;
        out.lens = s.lens;
        out.min_len = s.min_len;
        out.runs = s.runs;
      } else {
        union_prefix(out, s);
        union_runs(out, s);
      }
      first_alt = false;
      if (i_ < p_.size() && p_[i_] == '|') {
        ++i_;
        continue;
      }
      return out;
    }
  }

 private:
  Node sequence(bool& caseless) {
    Node acc;
    while (!failed_ && i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      bool flags_only = false;
      Node a = atom(caseless, flags_only);
      if (failed_) return acc;
      if (flags_only) continue;  // (?i): changes what follows, matches nothing
      const Quantifier q = quantifier();
      if (failed_) return acc;
      if (q.present && q.min == 0) a.nullable = true;
      repeat_prefix(a, q);
      repeat_runs(a, q);
      append_prefix(acc, a);
      append_runs(acc, a);
      acc.bytes |= a.bytes;
      if (acc.nullable) acc.first |= a.first;
      acc.nullable = acc.nullable && a.nullable;
    }
    return acc;
  }

  // A decimal count, saturated (only "0" and "at least kP" matter here).
  static unsigned count(std::string_view digits) {
    unsigned v = 0;
    for (char d : digits) v = std::min(v * 10 + static_cast<unsigned>(d - '0'), 1000000u);
    return v;
  }

  // Consumes an optional quantifier.
  Quantifier quantifier() {
    Quantifier q;
    if (i_ >= p_.size()) return q;
    const char c = p_[i_];
    if (c == '*' || c == '?' || c == '+') {
      q = {true, c == '+' ? 1u : 0u, c == '?' ? 1u : UINT_MAX};
      ++i_;
    } else if (c == '{') {
      std::size_t j = i_ + 1;
      std::size_t min_start = j;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') ++j;
      if (j == min_start) {
        if (j < p_.size() && p_[j] == ',') failed_ = true;  // {,n}: read differently by versions
        return q;                                           // a literal '{'
      }
      q.min = count(p_.substr(min_start, j - min_start));
      q.max = q.min;
      if (j < p_.size() && p_[j] == ',') {
        ++j;
        const std::size_t max_start = j;
        while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') ++j;
        q.max = j == max_start ? UINT_MAX : count(p_.substr(max_start, j - max_start));
      }
      if (j >= p_.size() || p_[j] != '}') return Quantifier{};  // a literal '{'
      if (q.max < q.min) {
        failed_ = true;
        return q;
      }
      i_ = j + 1;
      q.present = true;
    } else {
      return q;
    }
    if (i_ < p_.size() && (p_[i_] == '?' || p_[i_] == '+')) ++i_;  // lazy, possessive
    return q;
  }

  static Node zero_width() { return Node{}; }

  Node of_set(const ByteSet& s) {
    Node n;
    n.bytes = s;
    n.first = s;
    n.nullable = false;
    n.at[0] = s;
    n.lens = 2;  // length 1
    n.min_len = 1;
    for (std::size_t k = 0; k < kMaxRunClasses; ++k) {
      const bool in = k < run_classes_.size() && (s & ~run_classes_[k]).none();
      n.runs[k] = in ? Runs{true, 1, 1, 1} : Runs{false, 0, 0, 0};
    }
    return n;
  }

  // Anchors and lookarounds: zero-width, but they read text outside the match.
  Node outside_assertion() {
    reads_outside_ = true;
    return zero_width();
  }

  // `$` and `\Z` may leave a final newline after the match.
  Node end_anchor() {
    reads_outside_ = true;
    Node n;
    n.bytes.set('\n');
    n.at[0].set('\n');
    n.lens = 3;  // length 0 or 1
    for (Runs& r : n.runs) r.all = false;
    return n;
  }

  Node literal_byte(unsigned char c, bool caseless) {
    ByteSet s;
    s.set(c);
    if (caseless) s = fold_case(s);
    return of_set(s);
  }

  Node atom(bool& caseless, bool& flags_only) {
    const char c = p_[i_];
    switch (c) {
      case '(':
        return group(caseless, flags_only);
      case '[':
        return char_class(caseless);
      case '\\':
        return escape(caseless);
      case '.':
        ++i_;
        return of_set(ByteSet().set());
      case '^':
        ++i_;
        return outside_assertion();
      case '$':
        // `$` also matches before a final newline: the match is then reported with that
        // newline still after it, so the newline counts as part of what the match needs.
        ++i_;
        return end_anchor();
      case '*':
      case '+':
      case '?':
        failed_ = true;
        return {};
      default:
        break;
    }
    const auto b = static_cast<unsigned char>(c);
    if (utf8_ && b >= 0xC0) {
      // A multi-byte code point is one atom: a quantifier applies to all of it.
      Node n;
      n.nullable = false;
      n.first.set(b);
      n.bytes.set(b);
      n.at[0].set(b);
      std::size_t len = 1;
      ++i_;
      while (i_ < p_.size() && (static_cast<unsigned char>(p_[i_]) & 0xC0) == 0x80) {
        n.bytes.set(static_cast<unsigned char>(p_[i_]));
        if (len < kP) n.at[len].set(static_cast<unsigned char>(p_[i_]));
        ++len;
        ++i_;
      }
      n.lens = 0;
      n.lens.set(std::min(len, kP));
      n.min_len = static_cast<std::uint32_t>(len);
      for (Runs& r : n.runs) r.all = false;  // run classes are ASCII
      if (caseless) caseless_seen_ = true;
      return n;
    }
    ++i_;
    if (caseless) caseless_seen_ = true;
    return literal_byte(b, caseless);
  }

  Node group(bool& caseless, bool& flags_only) {
    ++i_;  // '('
    bool inner_caseless = caseless;
    bool zero = false;
    if (i_ < p_.size() && p_[i_] == '?') {
      ++i_;
      if (i_ >= p_.size()) {
        failed_ = true;
        return {};
      }
      const char k = p_[i_];
      if (k == ':') {
        ++i_;
      } else if (k == '=' || k == '!') {
        ++i_;
        zero = true;
      } else if (k == '<' && i_ + 1 < p_.size() && (p_[i_ + 1] == '=' || p_[i_ + 1] == '!')) {
        i_ += 2;
        zero = true;
      } else if (k == '<' || k == '\'' || (k == 'P' && i_ + 1 < p_.size() && p_[i_ + 1] == '<')) {
        // A named group: skip the name.
        const char close = k == '\'' ? '\'' : '>';
        while (i_ < p_.size() && p_[i_] != close) ++i_;
        if (i_ >= p_.size()) {
          failed_ = true;
          return {};
        }
        ++i_;
      } else if (k == '#') {
        while (i_ < p_.size() && p_[i_] != ')') ++i_;
        if (i_ >= p_.size()) {
          failed_ = true;
          return {};
        }
        ++i_;
        flags_only = true;
        return {};
      } else {
        // Inline flags: (?i) (?-i) (?s) (?m) (?i:...). (?x) changes how the rest reads: give up.
        bool on = true;
        bool ci = caseless;
        while (i_ < p_.size() && p_[i_] != ')' && p_[i_] != ':') {
          switch (p_[i_]) {
            case '-':
              on = false;
              break;
            case 'i':
              ci = on;
              break;
            case 's':
            case 'm':
              break;
            default:
              failed_ = true;
              return {};
          }
          ++i_;
        }
        if (i_ >= p_.size()) {
          failed_ = true;
          return {};
        }
        if (p_[i_] == ')') {
          ++i_;
          caseless = ci;
          flags_only = true;
          return {};
        }
        ++i_;  // ':'
        inner_caseless = ci;
      }
    }
    Node n = alternation(inner_caseless);
    if (failed_) return {};
    if (i_ >= p_.size() || p_[i_] != ')') {
      failed_ = true;
      return {};
    }
    ++i_;
    // A lookaround reads bytes but does not make them part of the match.
    return zero ? outside_assertion() : n;
  }

  // \xHH or \x{H...} after the 'x'; false when malformed.
  bool hex_escape(std::uint32_t& v) {
    v = 0;
    if (i_ < p_.size() && p_[i_] == '{') {
      ++i_;
      int count = 0;
      while (i_ < p_.size() && p_[i_] != '}') {
        const int h = hex::digit_value(p_[i_]);
        if (h < 0 || ++count > 6) return false;
        v = v * 16 + static_cast<std::uint32_t>(h);
        ++i_;
      }
      if (i_ >= p_.size() || count == 0) return false;
      ++i_;
      return true;
    }
    for (int count = 0; count < 2 && i_ < p_.size() && hex::digit_value(p_[i_]) >= 0;
         ++count, ++i_) {
      v = v * 16 + static_cast<std::uint32_t>(hex::digit_value(p_[i_]));
    }
    return true;
  }

  // The bytes of code point `v`: itself below 0x80; in UTF-8 mode any byte >= 0x80 above
  // (its encoding); a raw byte otherwise. False for values no byte or code point can be.
  bool code_point_bytes(std::uint32_t v, ByteSet& out) const {
    if (v < 0x80 || (!utf8_ && v <= 0xFF)) {
      out.set(v);
      return true;
    }
    if (utf8_ && v <= 0x10FFFF) {
      out |= high();
      return true;
    }
    return false;
  }

  // One escape (the '\' at i_) as an Item; `in_class` reads \b as backspace.
  Item escape_item(bool in_class) {
    Item it;
    ++i_;  // '\'
    if (i_ >= p_.size()) {
      failed_ = true;
      return it;
    }
    const char e = p_[i_++];
    auto set = [&](ByteSet s) {
      it.is_set = true;
      it.set = s;
      return it;
    };
    switch (e) {
      case 'd':
        return set(digits());
      case 'D':
        return set(~digits());
      case 'w':
        return set(word());
      case 'W':
        return set(~word());
      case 's':
        return set(space());
      case 'S':
        return set(~space());
      case 't':
        it.value = '\t';
        return it;
      case 'n':
        it.value = '\n';
        return it;
      case 'r':
        it.value = '\r';
        return it;
      case 'f':
        it.value = '\f';
        return it;
      case 'e':
        it.value = 0x1B;
        return it;
      case 'a':
        it.value = 0x07;
        return it;
      case 'x':
        if (!hex_escape(it.value)) failed_ = true;
        return it;
      case 'b':
        if (in_class) {
          it.value = 0x08;
          return it;
        }
        break;
      default:
        break;
    }
    if (!is_alnum(e) && static_cast<unsigned char>(e) < 0x80) {
      it.value = static_cast<unsigned char>(e);  // escaped punctuation is itself
      return it;
    }
    failed_ = true;  // \p, \Q, \c, \v, \h, back references, octal, ...: not read here
    return it;
  }

  Node escape(bool caseless) {
    // Zero-width assertions first.
    if (i_ + 1 < p_.size()) {
      const char e = p_[i_ + 1];
      if (e == 'b' || e == 'B') {  // reads the bytes either side of a position in the match
        i_ += 2;
        return zero_width();
      }
      if (e == 'A' || e == 'z' || e == 'G') {
        i_ += 2;
        return outside_assertion();
      }
      if (e == 'Z') {  // like `$`: may leave a final newline after the match
        i_ += 2;
        return end_anchor();
      }
    }
    Item it = escape_item(false);
    if (failed_) return {};
    ByteSet s;
    if (it.is_set) {
      s = it.set;
    } else if (!code_point_bytes(it.value, s)) {
      failed_ = true;
      return {};
    }
    if (caseless) {
      caseless_seen_ = true;
      s = fold_case(s);
    }
    return of_set(s);
  }

  // One class member as an Item, the ']' not included.
  Item class_item() {
    Item it;
    const auto b = static_cast<unsigned char>(p_[i_]);
    if (b == '\\') return escape_item(true);
    if (b == '[' && i_ + 1 < p_.size() &&
        (p_[i_ + 1] == ':' || p_[i_ + 1] == '.' || p_[i_ + 1] == '=')) {
      failed_ = true;  // POSIX classes
      return it;
    }
    if (utf8_ && b >= 0xC0) {
      // Decode the code point so that a range over it is read as one.
      int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
      std::uint32_t v = b & (0x3F >> extra);
      ++i_;
      for (; extra > 0 && i_ < p_.size(); --extra, ++i_) {
        v = (v << 6) | (static_cast<unsigned char>(p_[i_]) & 0x3F);
      }
      it.value = v;
      return it;
    }
    ++i_;
    it.value = b;
    return it;
  }

  Node char_class(bool caseless) {
    ++i_;  // '['
    bool negate = false;
    if (i_ < p_.size() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    ByteSet s;
    bool first_item = true;
    while (i_ < p_.size() && (p_[i_] != ']' || first_item)) {
      first_item = false;
      Item lo = class_item();
      if (failed_) return {};
      if (!lo.is_set && i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        Item hi = class_item();
        if (failed_) return {};
        if (hi.is_set || hi.value < lo.value) {
          failed_ = true;
          return {};
        }
        if (hi.value < 0x80 || (!utf8_ && hi.value <= 0xFF)) {
          s |= range(lo.value, hi.value);
        } else if (utf8_ && hi.value <= 0x10FFFF) {
          if (lo.value < 0x80) s |= range(lo.value, 0x7F);
          s |= high();
        } else {
          failed_ = true;
          return {};
        }
        continue;
      }
      if (lo.is_set) {
        s |= lo.set;
      } else if (!code_point_bytes(lo.value, s)) {
        failed_ = true;
        return {};
      }
    }
    if (i_ >= p_.size()) {
      failed_ = true;
      return {};
    }
    ++i_;  // ']'
    if (caseless) {
      caseless_seen_ = true;
      s = fold_case(s);
    }
    if (negate) {
      s = ~s;  // the complement covers bytes >= 0x80
      // In UTF-8 a listed code point >= 0x80 was over-approximated as every high byte above;
      // its complement must not lose them: any code point not listed can still match.
      if (utf8_) s |= high();
    }
    return of_set(s);
  }

  std::string_view p_;
  bool utf8_;
  std::span<const ByteSet> run_classes_;
  std::size_t i_ = 0;
  bool failed_ = false;
  bool caseless_seen_ = false;
  bool reads_outside_ = false;
};

}  // namespace

ByteAlphabet analyse_pattern(std::string_view expression, bool caseless, bool utf8, bool ucp,
                             std::span<const ByteSet> run_classes) {
  ByteAlphabet out;
  if (run_classes.size() > kMaxRunClasses) run_classes = run_classes.first(kMaxRunClasses);
  Parser parser(expression, utf8, run_classes);
  bool ci = caseless;
  Node root = parser.alternation(ci);
  if (parser.failed() || !parser.at_end()) {
    out.bytes.set();
    out.first.set();
    for (ByteSet& s : out.at) s.set();
    out.reads_outside = true;
    return out;
  }
  out.reads_outside = parser.reads_outside();
  for (std::size_t k = 0; k < run_classes.size(); ++k) out.run[k] = root.runs[k].in;
  out.understood = true;
  out.bytes = root.bytes;
  // A pattern that can match the empty string may start anywhere in its alphabet.
  out.first = root.nullable ? root.bytes : root.first;
  out.at = root.at;
  out.at[0] = out.first;
  // Unicode case folding (the Kelvin sign, the long s) and Unicode classes reach non-ASCII
  // code points whose bytes the ASCII reading above does not list.
  if (utf8 && (ucp || parser.caseless_seen() || caseless)) {
    out.bytes |= high();
    out.first |= high();
    for (ByteSet& s : out.at) s |= high();
    out.run = {};  // a non-ASCII code point may stand for an ASCII one
  }
  return out;
}

}  // namespace edgeward::rules
