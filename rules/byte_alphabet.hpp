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
#include <string_view>

namespace edgeward::rules {

using ByteSet = std::bitset<256>;

// How many leading positions of a match ByteAlphabet::at describes.
inline constexpr std::size_t kCheckedPrefix = 4;

struct ByteAlphabet {
  ByteSet bytes;  // every byte that can occur inside a match
  ByteSet first;  // every byte a non-empty match can start with (subset of bytes)
  // at[k]: every byte that can be at offset k of a match (at[0] == first): text whose k-th byte
  // is not in at[k] is not the beginning of a match.
  std::array<ByteSet, kCheckedPrefix> at;
  bool understood = false;
};

// `caseless` is HS_FLAG_CASELESS, `utf8` HS_FLAG_UTF8, `ucp` HS_FLAG_UCP. Under UTF-8 mode a
// caseless pattern or a Unicode class may match any non-ASCII code point (the Kelvin sign is a
// caseless `k`), so every byte >= 0x80 is then allowed.
ByteAlphabet analyse_pattern(std::string_view expression, bool caseless, bool utf8 = false,
                             bool ucp = false);

}  // namespace edgeward::rules
