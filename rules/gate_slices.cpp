// Gate slices (gate_slices.hpp): one pass over the text 64 bytes at a time, building the bit
// masks of the bytes in each range, then of the ends of long enough runs; each 64-byte block with
// such an end adds one slice from its first end to its last. Prose has few digits, no '@' and
// short runs of capitals, so most blocks end after the masks.

#include "rules/gate_slices.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeward::rules {

namespace {

struct Range {
  unsigned char lo;
  unsigned char span;  // hi - lo
};

// Blocks of 64 bytes per call of a MasksFn.
constexpr std::size_t kChunk = 16;
using ChunkMasks = std::array<std::array<std::uint64_t, kChunk>, kMaxSliceSpecs>;

// For each of the `blocks` (at most kChunk) 64-byte blocks at p and each range r, sets
// masks[r][block] (bit i: byte i of the block in range r).
using MasksFn = void (*)(const unsigned char* p, std::size_t blocks, const Range* ranges,
                         std::size_t count, ChunkMasks& masks);

void masks_scalar(const unsigned char* p, std::size_t blocks, const Range* ranges,
                  std::size_t count, ChunkMasks& masks) {
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t r = 0; r < count; ++r) {
      std::uint64_t m = 0;
      for (std::size_t i = 0; i < 64; ++i) {
        const auto d = static_cast<unsigned char>(p[b * 64 + i] - ranges[r].lo);
        m |= static_cast<std::uint64_t>(d <= ranges[r].span) << i;
      }
      masks[r][b] = m;
    }
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void masks_avx2(const unsigned char* p, std::size_t blocks,
                                                const Range* ranges, std::size_t count,
                                                ChunkMasks& masks) {
  __m256i lo[kMaxSliceSpecs] = {}, span[kMaxSliceSpecs] = {};
  for (std::size_t r = 0; r < count; ++r) {
    lo[r] = _mm256_set1_epi8(static_cast<char>(ranges[r].lo));
    span[r] = _mm256_set1_epi8(static_cast<char>(ranges[r].span));
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + b * 64));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + b * 64 + 32));
    for (std::size_t r = 0; r < count; ++r) {
      const __m256i dx = _mm256_sub_epi8(x, lo[r]);
      const __m256i dy = _mm256_sub_epi8(y, lo[r]);
      const __m256i inx = _mm256_cmpeq_epi8(_mm256_min_epu8(dx, span[r]), dx);
      const __m256i iny = _mm256_cmpeq_epi8(_mm256_min_epu8(dy, span[r]), dy);
      masks[r][b] =
          static_cast<std::uint32_t>(_mm256_movemask_epi8(inx)) |
          static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(iny))) << 32;
    }
  }
}

__attribute__((target("avx512bw"))) void masks_avx512(const unsigned char* p, std::size_t blocks,
                                                      const Range* ranges, std::size_t count,
                                                      ChunkMasks& masks) {
  __m512i lo[kMaxSliceSpecs] = {}, span[kMaxSliceSpecs] = {};
  for (std::size_t r = 0; r < count; ++r) {
    lo[r] = _mm512_set1_epi8(static_cast<char>(ranges[r].lo));
    span[r] = _mm512_set1_epi8(static_cast<char>(ranges[r].span));
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    const __m512i v = _mm512_loadu_si512(p + b * 64);
    for (std::size_t r = 0; r < count; ++r) {
      masks[r][b] = _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, lo[r]), span[r]);
    }
  }
}
#endif

MasksFn pick_masks() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512bw")) return masks_avx512;
  if (__builtin_cpu_supports("avx2")) return masks_avx2;
#endif
  return masks_scalar;
}

const MasksFn g_masks = pick_masks();

}  // namespace

void gate_slices(std::string_view text, std::span<const SliceSpec> specs) {
  const std::size_t count = std::min(specs.size(), kMaxSliceSpecs);
  std::array<Range, kMaxSliceSpecs> ranges{};
  std::array<std::uint32_t, kMaxSliceSpecs> runs{};
  for (std::size_t r = 0; r < count; ++r) {
    specs[r].out->clear();
    ranges[r] = Range{specs[r].lo, static_cast<unsigned char>(specs[r].hi - specs[r].lo)};
    runs[r] = std::clamp<std::uint32_t>(specs[r].min_run, 1, 64);
  }
  const std::size_t n = text.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  ChunkMasks masks;
  std::array<std::uint64_t, kMaxSliceSpecs> prev{};  // runs carry across blocks
  unsigned char tail[64];
  for (std::size_t chunk = 0; chunk < n; chunk += kChunk * 64) {
    const std::size_t full = std::min(kChunk, (n - chunk) / 64);
    std::size_t blocks = full;
    if (full > 0) g_masks(bytes + chunk, full, ranges.data(), count, masks);
    if (full < kChunk && chunk + full * 64 < n) {
      // The last, partial block: padded, its padding masked off.
      const std::size_t rest = n - chunk - full * 64;
      std::memset(tail, 0, sizeof tail);
      std::memcpy(tail, bytes + chunk + full * 64, rest);
      ChunkMasks last;
      g_masks(tail, 1, ranges.data(), count, last);
      for (std::size_t r = 0; r < count; ++r) {
        masks[r][full] = last[r][0] & ((std::uint64_t{1} << rest) - 1);
      }
      blocks = full + 1;
    }
    for (std::size_t b = 0; b < blocks; ++b) {
      std::uint64_t any = 0;
      for (std::size_t r = 0; r < count; ++r) any |= masks[r][b];
      if (!any) {  // the common case in prose
        prev = {};
        continue;
      }
      const std::size_t base = chunk + b * 64;
      for (std::size_t r = 0; r < count; ++r) {
        const std::uint64_t m = masks[r][b];
        // Bit j of `ends`: bytes j-run+1 .. j are all in the range.
        std::uint64_t ends = m;
        for (std::uint32_t i = 1; i < runs[r] && ends; ++i) {
          ends &= (m << i) | (prev[r] >> (64 - i));
        }
        prev[r] = m;
        if (!ends) continue;
        const std::size_t first = base + static_cast<std::size_t>(std::countr_zero(ends));
        const std::size_t last = base + 63 - static_cast<std::size_t>(std::countl_zero(ends));
        // A match holding a run is at least as wide as the run.
        const std::size_t width = std::max<std::size_t>(specs[r].width, runs[r]);
        const std::size_t begin = first > width ? first - width : 0;
        const std::size_t end = std::min(n, last + 2 + width - runs[r]);
        std::vector<TextSlice>& out = *specs[r].out;
        if (!out.empty() && begin <= out.back().end + kSliceMergeGap) {
          out.back().end = std::max(out.back().end, end);
        } else {
          out.push_back(TextSlice{begin, end});
        }
      }
    }
  }
}

}  // namespace edgeward::rules
