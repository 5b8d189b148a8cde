#include "rules/text_fold.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <iterator>
#include <limits>

namespace edgeward::rules {

namespace {

// What the character at text[i] folds to. `length` 0: it is not one to fold.
struct Fold {
  std::size_t length = 0;
  int ascii = -1;  // -1: dropped
};

// Lead bytes of the characters below: every other byte starts nothing to fold.
bool may_lead(unsigned char c) {
  switch (c) {
    case 0xC2:
    case 0xCD:
    case 0xD8:
    case 0xD9:
    case 0xDB:
    case 0xDF:
    case 0xE0:
    case 0xE1:
    case 0xE2:
    case 0xE3:
    case 0xEF:
    case 0xF0:
    case 0xF3:
      return true;
    default:
      return false;
  }
}

// The code point at t[i] and its length; length 0 for a byte that starts no valid sequence.
struct CodePoint {
  std::uint32_t cp = 0;
  std::size_t length = 0;
};

CodePoint decode_at(std::string_view t, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < t.size() ? static_cast<unsigned char>(t[i + k]) : 0u;
  };
  const auto cont = [&](std::size_t k) { return (at(k) & 0xC0) == 0x80; };
  const unsigned b = at(0);
  if (b >= 0xC2 && b <= 0xDF && cont(1)) return {((b & 0x1F) << 6) | (at(1) & 0x3F), 2};
  if (b >= 0xE0 && b <= 0xEF && cont(1) && cont(2)) {
    const std::uint32_t cp = ((b & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};
    return {};
  }
  if (b >= 0xF0 && b <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const std::uint32_t cp =
        ((b & 0x07) << 18) | ((at(1) & 0x3F) << 12) | ((at(2) & 0x3F) << 6) | (at(3) & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
  }
  return {};
}

// Characters that render as nothing (format characters and fillers).
bool invisible(std::uint32_t cp) {
  return cp == 0xAD || cp == 0x34F || cp == 0x61C || cp == 0x115F || cp == 0x1160 || cp == 0x17B4 ||
         cp == 0x17B5 || (cp >= 0x180B && cp <= 0x180F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 ||
         (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || cp == 0xFFA0 ||
         (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0x1BCA0 && cp <= 0x1BCA3) ||
         (cp >= 0x1D173 && cp <= 0x1D17A) || (cp >= 0xE0000 && cp <= 0xE007F) ||
         (cp >= 0xE0100 && cp <= 0xE01EF);
}

// The first code point of each run of ten decimal digits (Unicode Nd) that people type numbers
// in: Arabic-Indic, Extended Arabic-Indic (Persian, Urdu), NKo, the Indic scripts, Thai, Lao,
// Tibetan, Myanmar, Khmer, Mongolian. Fullwidth and mathematical digits are handled apart.
constexpr std::uint32_t kDigitZeros[] = {0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6,
                                         0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50,
                                         0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810};

// The ASCII character a compatibility form stands for (what NFKC gives, and what a model or a
// person reads), or -1.
int ascii_of(std::uint32_t cp) {
  if (cp < 0x2000) {
    if (cp == 0xB9) return '1';  // superscripts
    if (cp == 0xB2 || cp == 0xB3) return static_cast<int>('2' + (cp - 0xB2));
    for (std::uint32_t zero : kDigitZeros) {
      if (cp >= zero && cp < zero + 10) return static_cast<int>('0' + (cp - zero));
    }
    return -1;
  }
  if (cp < 0x3000) {
    // Superscript and subscript digits.
    if (cp == 0x2070) return '0';
    if (cp >= 0x2074 && cp <= 0x2079) return static_cast<int>('4' + (cp - 0x2074));
    if (cp >= 0x2080 && cp <= 0x2089) return static_cast<int>('0' + (cp - 0x2080));
    // Circled: ①..⑨, Ⓐ..Ⓩ, ⓐ..ⓩ, ⓪.
    if (cp >= 0x2460 && cp <= 0x2468) return static_cast<int>('1' + (cp - 0x2460));
    if (cp >= 0x24B6 && cp <= 0x24CF) return static_cast<int>('A' + (cp - 0x24B6));
    if (cp >= 0x24D0 && cp <= 0x24E9) return static_cast<int>('a' + (cp - 0x24D0));
    if (cp == 0x24EA) return '0';
    return -1;
  }
  if (cp == 0x3000) return ' ';
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<int>(cp - 0xFF01 + 0x21);  // fullwidth
  // Mathematical alphanumerics: thirteen alphabets of A-Z a-z, then five sets of digits.
  if (cp >= 0x1D400 && cp <= 0x1D6A3) {
    const std::uint32_t k = (cp - 0x1D400) % 52;
    return static_cast<int>(k < 26 ? 'A' + k : 'a' + (k - 26));
  }
  if (cp >= 0x1D7CE && cp <= 0x1D7FF) return static_cast<int>('0' + (cp - 0x1D7CE) % 10);
  return -1;
}

// Whether a character starting with these two bytes can be one of the above: most letters of
// the scripts sharing those lead bytes (Arabic, Devanagari, kana, emoji) are not decoded.
bool may_fold(unsigned lead, unsigned second) {
  switch (lead) {
    case 0xC2:
      return second == 0xAD || second == 0xB2 || second == 0xB3 || second == 0xB9;
    case 0xCD:
      return second == 0x8F;
    case 0xD8:
      return second == 0x9C;
    case 0xD9:
      return second >= 0xA0 && second <= 0xA9;
    case 0xDB:
      return second >= 0xB0 && second <= 0xB9;
    case 0xDF:
      return second >= 0x80 && second <= 0x89;
    case 0xE0:
      return second >= 0xA5 && second <= 0xBC;
    case 0xE1:
      return second == 0x81 || second == 0x82 || second == 0x85 || second == 0x9E ||
             second == 0x9F || second == 0xA0;
    case 0xE2:
      return second == 0x80 || second == 0x81 || second == 0x82 ||
             (second >= 0x91 && second <= 0x93);
    case 0xE3:
      return second == 0x80 || second == 0x85;
    case 0xEF:
      return second >= 0xB8;
    case 0xF0:
      return second == 0x9B || second == 0x9D;
    case 0xF3:
      return second == 0xA0 || second == 0xA4;
    default:
      return false;
  }
}

Fold fold_at(std::string_view t, std::size_t i) {
  if (i + 1 >= t.size() ||
      !may_fold(static_cast<unsigned char>(t[i]), static_cast<unsigned char>(t[i + 1]))) {
    return {};
  }
  const CodePoint c = decode_at(t, i);
  if (c.length == 0) return {};
  if (invisible(c.cp)) return {c.length, -1};
  const int a = ascii_of(c.cp);
  if (a >= 0) return {c.length, a};
  return {};
}

bool alnum(unsigned c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// A byte that can stand inside a key, a number or a word a rule looks for.
bool token_byte(unsigned c) {
  return alnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '+' || c == '=' ||
         c == ':' || c == '@';
}

// A character that can hide a match: one read as an ASCII digit or letter, or a dropped
// character next to a byte that could belong to a token ("AKIA<U+200B>4XCI", "SSN:
// <U+2060>536228745"). Dropped characters between other characters are ordinary text: the
// variation selector of an emoji, the joiners of an emoji sequence, the tags of a flag, bidi
// marks between right-to-left words. Fullwidth punctuation and the ideographic space alone are
// ordinary CJK typography (`，`, `：`, `（`). A text holding only those is not scanned twice.
bool hides(std::string_view t, std::size_t i) {
  const Fold f = fold_at(t, i);
  if (f.length == 0) return false;
  if (f.ascii >= 0) return alnum(static_cast<unsigned>(f.ascii));
  if (i > 0 && token_byte(static_cast<unsigned char>(t[i - 1]))) return true;
  std::size_t next = i + f.length;
  while (next < t.size()) {
    const Fold g = fold_at(t, next);
    if (g.length == 0 || g.ascii >= 0) break;
    next += g.length;
  }
  return next < t.size() && token_byte(static_cast<unsigned char>(t[next]));
}

// The start of the first 128-byte block of p[0, n) that holds a byte >= 0x80, or the start of
// the last partial block: what the precise pass below must still read.
std::size_t ascii_prefix_scalar(const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    unsigned char any = 0;
    for (std::size_t k = 0; k < 128; ++k) any |= p[i + k];
    if (any & 0x80) break;
  }
  return i;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) std::size_t ascii_prefix_avx2(const unsigned char* p,
                                                              std::size_t n) {
  std::size_t i = 0;
  for (; i + 128 <= n; i += 128) {
    const auto* v = reinterpret_cast<const __m256i*>(p + i);
    const __m256i any =
        _mm256_or_si256(_mm256_or_si256(_mm256_loadu_si256(v), _mm256_loadu_si256(v + 1)),
                        _mm256_or_si256(_mm256_loadu_si256(v + 2), _mm256_loadu_si256(v + 3)));
    if (_mm256_movemask_epi8(any) != 0) break;
  }
  return i;
}
#endif

using AsciiPrefixFn = std::size_t (*)(const unsigned char*, std::size_t);

AsciiPrefixFn pick_ascii_prefix() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return ascii_prefix_avx2;
#endif
  return ascii_prefix_scalar;
}

const AsciiPrefixFn g_ascii_prefix = pick_ascii_prefix();

}  // namespace

bool has_hidden_characters(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  // Most texts are ASCII: skip them 128 bytes at a time (a fifth of the 16-byte pass's cost).
  std::size_t i = g_ascii_prefix(p, n);
#if defined(__SSE2__)
  const auto lead_byte = [](unsigned char c) { return _mm_set1_epi8(static_cast<char>(c)); };
  const __m128i leads[] = {lead_byte(0xC2), lead_byte(0xCD), lead_byte(0xD8), lead_byte(0xD9),
                           lead_byte(0xDB), lead_byte(0xDF), lead_byte(0xE0), lead_byte(0xE1),
                           lead_byte(0xE2), lead_byte(0xE3), lead_byte(0xEF), lead_byte(0xF0),
                           lead_byte(0xF3)};
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (_mm_movemask_epi8(v) == 0) continue;  // ASCII
    __m128i lead = _mm_cmpeq_epi8(v, leads[0]);
    for (std::size_t k = 1; k < std::size(leads); ++k) {
      lead = _mm_or_si128(lead, _mm_cmpeq_epi8(v, leads[k]));
    }
    for (auto bits = static_cast<unsigned>(_mm_movemask_epi8(lead)); bits != 0; bits &= bits - 1) {
      if (hides(text, i + static_cast<std::size_t>(__builtin_ctz(bits)))) return true;
    }
  }
#endif
  for (; i < n; ++i) {
    if (may_lead(p[i]) && hides(text, i)) return true;
  }
  return false;
}

bool fold_hidden_characters(std::string_view text, FoldedText& out) {
  out.text.clear();
  out.begin.clear();
  out.end.clear();
  if (text.size() >= std::numeric_limits<std::uint32_t>::max()) return false;
  out.text.reserve(text.size());
  out.begin.reserve(text.size());
  out.end.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const Fold f = may_lead(static_cast<unsigned char>(text[i])) ? fold_at(text, i) : Fold{};
    if (f.length == 0) {
      out.text.push_back(text[i]);
      out.begin.push_back(static_cast<std::uint32_t>(i));
      out.end.push_back(static_cast<std::uint32_t>(i + 1));
      ++i;
      continue;
    }
    if (f.ascii >= 0) {
      out.text.push_back(static_cast<char>(f.ascii));
      out.begin.push_back(static_cast<std::uint32_t>(i));
      out.end.push_back(static_cast<std::uint32_t>(i + f.length));
    }
    i += f.length;
  }
  return true;
}

}  // namespace edgeward::rules
