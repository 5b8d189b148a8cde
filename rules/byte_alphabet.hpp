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

#include <bitset>
#include <string_view>

namespace edgeward::rules {

using ByteSet = std::bitset<256>;

struct ByteAlphabet {
  ByteSet bytes;  // every byte that can occur inside a match
  ByteSet first;  // every byte a non-empty match can start with (subset of bytes)
  bool understood = false;
};

// `caseless` is HS_FLAG_CASELESS, `utf8` HS_FLAG_UTF8, `ucp` HS_FLAG_UCP. Under UTF-8 mode a
// caseless pattern or a Unicode class may match any non-ASCII code point (the Kelvin sign is a
// caseless `k`), so every byte >= 0x80 is then allowed.
ByteAlphabet analyse_pattern(std::string_view expression, bool caseless, bool utf8 = false,
                             bool ucp = false);

}  // namespace edgeward::rules
