#include "rules/text_fold.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <iterator>
#include <limits>

namespace edgeward::rules {

namespace {

// What the character at text[i] folds to. `length` 0: it is not one to fold.
struct Fold {
  std::size_t length = 0;
  int ascii = -1;  // -1: dropped
};

bool may_lead(unsigned char c) {
  return c == 0xC2 || c == 0xCD || c == 0xE1 || c == 0xE2 || c == 0xE3 || c == 0xEF || c == 0xF3;
}

Fold fold_at(std::string_view t, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < t.size() ? static_cast<unsigned char>(t[i + k]) : 0u;
  };
  switch (at(0)) {
    case 0xC2:
      if (at(1) == 0xAD) return {2, -1};  // U+00AD soft hyphen
      break;
    case 0xCD:
      if (at(1) == 0x8F) return {2, -1};  // U+034F combining grapheme joiner
      break;
    case 0xE1:
      if (at(1) == 0xA0 && at(2) == 0x8E) return {3, -1};  // U+180E Mongolian vowel separator
      break;
    case 0xE2:
      // U+200B..U+200F zero-width space, (non-)joiner, LRM, RLM; U+202A..U+202E embeddings and
      // overrides; U+2060..U+206F word joiner, invisible operators, isolates.
      if (at(1) == 0x80 && at(2) >= 0x8B && at(2) <= 0x8F) return {3, -1};
      if (at(1) == 0x80 && at(2) >= 0xAA && at(2) <= 0xAE) return {3, -1};
      if (at(1) == 0x81 && at(2) >= 0xA0 && at(2) <= 0xAF) return {3, -1};
      break;
    case 0xE3:
      if (at(1) == 0x80 && at(2) == 0x80) return {3, ' '};  // U+3000
      break;
    case 0xEF:
      if (at(1) == 0xB8 && at(2) >= 0x80 && at(2) <= 0x8F) return {3, -1};  // U+FE00..U+FE0F
      if (at(1) == 0xBB && at(2) == 0xBF) return {3, -1};                   // U+FEFF
      // U+FF01..U+FF3F are EF BC 81..BF, U+FF40..U+FF5E are EF BD 80..9E: '!'..'~'.
      if (at(1) == 0xBC && at(2) >= 0x81 && at(2) <= 0xBF) {
        return {3, static_cast<int>(at(2) - 0x81 + 0x21)};
      }
      if (at(1) == 0xBD && at(2) >= 0x80 && at(2) <= 0x9E) {
        return {3, static_cast<int>(at(2) - 0x80 + 0x60)};
      }
      break;
    case 0xF3:
      // U+E0000..U+E007F tag characters, U+E0100..U+E01EF variation selectors 17-256.
      if (at(1) == 0xA0 && ((at(2) >= 0x80 && at(2) <= 0x81) || (at(2) >= 0x84 && at(2) <= 0x87)) &&
          at(3) >= 0x80 && at(3) <= 0xBF) {
        return {4, -1};
      }
      break;
    default:
      break;
  }
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

// A character that can hide a match: a fullwidth digit or letter, or a dropped character
// between two bytes that could belong to one token ("AKIA<U+200B>4XCI"). Dropped characters
// elsewhere are ordinary text: the variation selector of an emoji, the joiners of an emoji
// sequence, the tags of a flag, bidi marks in right-to-left text. Fullwidth punctuation and the
// ideographic space alone are ordinary CJK typography (`，`, `：`, `（`). A text holding only
// those is not scanned twice.
bool hides(std::string_view t, std::size_t i) {
  const Fold f = fold_at(t, i);
  if (f.length == 0) return false;
  if (f.ascii >= 0) return alnum(static_cast<unsigned>(f.ascii));
  if (i == 0 || !token_byte(static_cast<unsigned char>(t[i - 1]))) return false;
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
  const __m128i leads[] = {lead_byte(0xC2), lead_byte(0xCD), lead_byte(0xE1), lead_byte(0xE2),
                           lead_byte(0xE3), lead_byte(0xEF), lead_byte(0xF3)};
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
