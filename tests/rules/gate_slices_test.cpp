// Gate slices: every run of a byte range long enough to be part of a gated match is covered,
// with the match's width and one byte for `\b` on each side, whatever the text's length and
// wherever the runs fall against the 64-byte blocks the masks are built from.

#include "rules/gate_slices.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

using namespace edgeward::rules;

namespace {

bool in_range(char c, unsigned char lo, unsigned char hi) {
  const auto u = static_cast<unsigned char>(c);
  return u >= lo && u <= hi;
}

// What gate_slices promises, checked byte by byte: the slices are ordered, disjoint, non-empty
// and inside the text, and each run end j covers [j - width, j - run + width + 2).
void check_slices(const std::string& text, unsigned char lo, unsigned char hi, std::uint32_t run,
                  std::uint32_t width, const std::vector<TextSlice>& slices) {
  INFO("text length " << text.size() << ", run " << run << ", width " << width);
  for (std::size_t k = 0; k < slices.size(); ++k) {
    REQUIRE(slices[k].begin < slices[k].end);
    REQUIRE(slices[k].end <= text.size());
    if (k > 0) REQUIRE(slices[k - 1].end < slices[k].begin);
  }
  const std::size_t r = std::min<std::uint32_t>(run, 64);
  const std::size_t w = std::max<std::size_t>(width, r);
  std::size_t streak = 0;
  bool any_run = false;
  for (std::size_t j = 0; j < text.size(); ++j) {
    streak = in_range(text[j], lo, hi) ? streak + 1 : 0;
    if (streak < r) continue;
    any_run = true;
    const std::size_t need_begin = j > w ? j - w : 0;
    const std::size_t need_end = std::min(text.size(), j + 2 + w - r);
    const bool covered = std::any_of(slices.begin(), slices.end(), [&](const TextSlice& s) {
      return s.begin <= need_begin && s.end >= need_end;
    });
    INFO("run ending at " << j);
    REQUIRE(covered);
  }
  if (!any_run) REQUIRE(slices.empty());
}

}  // namespace

TEST_CASE("gate slices cover every long enough run, with the match width and a byte each side") {
  std::mt19937 rng(20261123);
  const std::string alphabet = "ABCDEFxyz 09.";
  std::vector<TextSlice> slices;
  for (int round = 0; round < 3000; ++round) {
    // Lengths around the 64-byte blocks and the 1024-byte chunks of the mask pass.
    const std::size_t n = round % 10 == 0 ? 1000 + rng() % 1200 : rng() % 300;
    // Mostly lowercase text with runs of capitals of every length here and there.
    std::string text;
    while (text.size() < n) {
      if (rng() % 6 == 0) {
        const std::size_t len = 1 + rng() % 12;
        for (std::size_t i = 0; i < len; ++i) text += static_cast<char>('A' + rng() % 6);
      } else {
        text += alphabet[6 + rng() % (alphabet.size() - 6)];
      }
    }
    text.resize(n);
    const std::uint32_t run = 1 + static_cast<std::uint32_t>(rng() % 8);
    const std::uint32_t width = static_cast<std::uint32_t>(rng() % 40);
    const SliceSpec spec{'A', 'Z', run, width, &slices};
    gate_slices(text, std::span<const SliceSpec>(&spec, 1));
    check_slices(text, 'A', 'Z', run, width, slices);
  }
}

TEST_CASE("gate slices: several ranges in one pass, each with its own slices") {
  std::string text(4096, 'x');
  text.replace(63, 6, "ABCDEF");      // across the first block boundary
  text.replace(1020, 8, "12345678");  // across the first chunk boundary
  text.replace(4090, 6, "@@@@@@");    // at the very end
  std::vector<TextSlice> caps, digits, at;
  const SliceSpec specs[] = {
      {'A', 'Z', 6, 11, &caps}, {'0', '9', 4, 20, &digits}, {'@', '@', 1, 30, &at}};
  gate_slices(text, specs);
  check_slices(text, 'A', 'Z', 6, 11, caps);
  check_slices(text, '0', '9', 4, 20, digits);
  check_slices(text, '@', '@', 1, 30, at);
  REQUIRE(caps.size() == 1);
  REQUIRE(digits.size() == 1);
  REQUIRE(at.size() == 1);
  CHECK(at[0].end == text.size());
}

TEST_CASE("gate slices: text without a long enough run has none, and old slices are dropped") {
  std::vector<TextSlice> slices = {{0, 5}};
  const SliceSpec spec{'A', 'Z', 6, 11, &slices};
  gate_slices("The GNU General Public License is a FREE license, ABCDE.", {&spec, 1});
  CHECK(slices.empty());
  gate_slices("", {&spec, 1});
  CHECK(slices.empty());
}
