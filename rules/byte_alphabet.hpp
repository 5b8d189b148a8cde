#pragma once
// What bytes a pattern's matches can be made of, for the stream scanner's stable offset
// (scanner.hpp): text can only still become part of a match if it is made of such bytes.
//
// The analysis reads the PCRE subset Hyperscan accepts: literals, escapes (\d \w \s \D \W \S
// \xHH \x{H..} \t \n \r \f \e \a and escaped punctuation), classes with ranges, negation and
// escapes, groups ((?:...), named, inline flags (?i) (?-i) (?s) (?m)), alternation,
// quantifiers, zero-width assertions (^ $ \b \B \A \z \Z \G, lookarounds). Anything else (back
// references, \p{..}, POSIX classes, (?x), \Q..\E, octal escapes, ...) makes the result
// `understood == false` with every byte allowed: a pattern the analyser does not read is never
// treated as narrower than it is.

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace edgeward::rules {

using ByteSet = std::bitset<256>;

// How many leading positions of a match ByteAlphabet::at describes.
inline constexpr std::size_t kCheckedPrefix = 4;

// How many byte classes analyse_pattern can report guaranteed runs of (ByteAlphabet::run).
inline constexpr std::size_t kMaxRunClasses = 4;

struct ByteAlphabet {
  ByteSet bytes;  // every byte that can occur inside a match
  ByteSet first;  // every byte a non-empty match can start with (subset of bytes)
  // at[k]: every byte that can be at offset k of a match (at[0] == first): text whose k-th byte
  // is not in at[k] is not the beginning of a match.
  std::array<ByteSet, kCheckedPrefix> at;
  // run[c]: every match holds at least this many consecutive bytes of run_classes[c] (0: no
  // such run is guaranteed), as asked for by analyse_pattern's `run_classes`.
  std::array<std::uint32_t, kMaxRunClasses> run{};
  // Whether a match depends on text outside it other than through \b and \B (the byte before
  // and the byte at its end): ^, $, \A, \z, \Z, \G or a lookaround. Such a pattern cannot be
  // scanned on a slice of the text as if the slice were the text.
  bool reads_outside = false;
  bool understood = false;
};

// `caseless` is HS_FLAG_CASELESS, `utf8` HS_FLAG_UTF8, `ucp` HS_FLAG_UCP. Under UTF-8 mode a
// caseless pattern or a Unicode class may match any non-ASCII code point (the Kelvin sign is a
// caseless `k`), so every byte >= 0x80 is then allowed.
// `run_classes` (at most kMaxRunClasses; bytes below 0x80) are the classes whose guaranteed runs
// ByteAlphabet::run reports.
ByteAlphabet analyse_pattern(std::string_view expression, bool caseless, bool utf8 = false,
                             bool ucp = false, std::span<const ByteSet> run_classes = {});

}  // namespace edgeward::rules
