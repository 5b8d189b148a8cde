#pragma once
// Where gated databases must look (compiled_internal.hpp, kGates): the slices of a text around
// every run of bytes of a range that is long enough to be part of one of their matches.
//
// A match of width at most `width` that holds `min_run` consecutive bytes of the range holds a
// run ending at some j (bytes j-min_run+1 .. j in the range), so it starts at or after
// j+1-width and ends at or before j-min_run+1+width. The slice for j reaches one byte further
// on each side, so that a `\b` or `\B` inside the match reads the same bytes as in the whole
// text and no match can begin at a slice's first byte or end at its last unless the text does.
// Slices are merged when they overlap or lie closer than kSliceMergeGap: a wider slice is still
// correct (any superset of the union is), and one Hyperscan call over a few more bytes costs
// less than a second call's setup.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace edgeward::rules {

struct TextSlice {
  std::size_t begin = 0;
  std::size_t end = 0;  // exclusive
};

inline constexpr std::size_t kSliceMergeGap = 128;
inline constexpr std::size_t kMaxSliceSpecs = 4;

// One range to find runs of, and where its slices go.
struct SliceSpec {
  unsigned char lo = 0;  // the range [lo, hi]
  unsigned char hi = 0;
  std::uint32_t min_run = 1;  // at least 1; runs longer than 64 are looked for as 64
  std::uint32_t width = 0;    // widest match of the gated database
  std::vector<TextSlice>* out = nullptr;
};

// Replaces each spec's `out` with the slices of `text` for it, in ascending order, disjoint,
// within [0, text.size()): empty when the text holds no run of the range that long. One pass
// over the text for all of them (at most kMaxSliceSpecs).
void gate_slices(std::string_view text, std::span<const SliceSpec> specs);

}  // namespace edgeward::rules
