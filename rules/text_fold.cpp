#include "rules/text_fold.hpp"

#include <immintrin.h>

#include <limits>

namespace edgeward::rules {

namespace {

// What the character at text[i] folds to. `length` 0: it is not one to fold.
struct Fold {
  std::size_t length = 0;
  int ascii = -1;  // -1: dropped
};

bool may_lead(unsigned char c) {
  return c == 0xC2 || c == 0xE2 || c == 0xE3 || c == 0xEF;
}

Fold fold_at(std::string_view t, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < t.size() ? static_cast<unsigned char>(t[i + k]) : 0u;
  };
  switch (at(0)) {
    case 0xC2:
      if (at(1) == 0xAD) return {2, -1};  // U+00AD
      break;
    case 0xE2:
      if (at(1) == 0x80 && at(2) >= 0x8B && at(2) <= 0x8D) return {3, -1};  // U+200B..U+200D
      if (at(1) == 0x81 && at(2) == 0xA0) return {3, -1};                   // U+2060
      break;
    case 0xE3:
      if (at(1) == 0x80 && at(2) == 0x80) return {3, ' '};  // U+3000
      break;
    case 0xEF:
      if (at(1) == 0xBB && at(2) == 0xBF) return {3, -1};  // U+FEFF
      // U+FF01..U+FF3F are EF BC 81..BF, U+FF40..U+FF5E are EF BD 80..9E: '!'..'~'.
      if (at(1) == 0xBC && at(2) >= 0x81 && at(2) <= 0xBF) {
        return {3, static_cast<int>(at(2) - 0x81 + 0x21)};
      }
      if (at(1) == 0xBD && at(2) >= 0x80 && at(2) <= 0x9E) {
        return {3, static_cast<int>(at(2) - 0x80 + 0x60)};
      }
      break;
    default:
      break;
  }
  return {};
}

// A character that can hide a match: one that is dropped, or a fullwidth digit or letter.
// Fullwidth punctuation and the ideographic space alone are ordinary CJK typography (`，`,
// `：`, `（`): a text holding only those is not scanned twice.
bool hides(std::string_view t, std::size_t i) {
  const Fold f = fold_at(t, i);
  if (f.length == 0) return false;
  const int c = f.ascii;
  return c < 0 || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
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
  const __m128i c2 = _mm_set1_epi8(static_cast<char>(0xC2));
  const __m128i e2 = _mm_set1_epi8(static_cast<char>(0xE2));
  const __m128i e3 = _mm_set1_epi8(static_cast<char>(0xE3));
  const __m128i ef = _mm_set1_epi8(static_cast<char>(0xEF));
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (_mm_movemask_epi8(v) == 0) continue;  // ASCII
    const __m128i lead = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, c2), _mm_cmpeq_epi8(v, e2)),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, e3), _mm_cmpeq_epi8(v, ef)));
    for (auto bits = static_cast<unsigned>(_mm_movemask_epi8(lead)); bits != 0; bits &= bits - 1) {
      if (hides(text, i + static_cast<std::size_t>(__builtin_ctz(bits)))) return true;
    }
  }
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
