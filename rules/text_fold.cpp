#include "rules/text_fold.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>

namespace edgeward::rules {

namespace {

// What the character at text[i] folds to. `length` 0: it is not one to fold.
struct Fold {
  std::size_t length = 0;
  int ascii = -1;          // -1: dropped
  bool lookalike = false;  // a letter of another script drawn like `ascii` (confusable_of)
};

// Lead bytes of the characters below: every other byte starts nothing to fold.
constexpr bool lead_byte(unsigned char c) {
  switch (c) {
    case 0xC2:
    case 0xC7:
    case 0xC9:
    case 0xCC:
    case 0xCD:
    case 0xCE:
    case 0xCF:
    case 0xD0:
    case 0xD1:
    case 0xD2:
    case 0xD3:
    case 0xD4:
    case 0xD5:
    case 0xD6:
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

constexpr auto kLeadBytes = [] {
  std::array<bool, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = lead_byte(static_cast<unsigned char>(c));
  return t;
}();

bool may_lead(unsigned char c) {
  return kLeadBytes[c];
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

// Characters that render as nothing (format characters and fillers), and the combining marks
// U+0300..U+036F: drawn on the letter before them, they leave it what a reader takes it for
// ("i" with a diaeresis or a strike-through still reads "i"), yet split the pattern's word.
bool invisible(std::uint32_t cp) {
  return cp == 0xAD || (cp >= 0x300 && cp <= 0x36F) || cp == 0x61C || cp == 0x115F ||
         cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5 || (cp >= 0x180B && cp <= 0x180F) ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2060 && cp <= 0x206F) || cp == 0x3164 || (cp >= 0xFE00 && cp <= 0xFE0F) ||
         cp == 0xFEFF || cp == 0xFFA0 || (cp >= 0xFFF9 && cp <= 0xFFFB) ||
         (cp >= 0x1BCA0 && cp <= 0x1BCA3) || (cp >= 0x1D173 && cp <= 0x1D17A) ||
         (cp >= 0xE0000 && cp <= 0xE007F) || (cp >= 0xE0100 && cp <= 0xE01EF);
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
    // The Kelvin sign and the Roman numerals of one letter (what NFKC gives).
    switch (cp) {
      case 0x212A:
        return 'K';
      case 0x2160:
        return 'I';
      case 0x2164:
        return 'V';
      case 0x2169:
        return 'X';
      case 0x216C:
        return 'L';
      case 0x216D:
        return 'C';
      case 0x216E:
        return 'D';
      case 0x216F:
        return 'M';
      case 0x2170:
        return 'i';
      case 0x2174:
        return 'v';
      case 0x2179:
        return 'x';
      case 0x217C:
        return 'l';
      case 0x217D:
        return 'c';
      case 0x217E:
        return 'd';
      case 0x217F:
        return 'm';
      default:
        return -1;
    }
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

// The ASCII letter that a letter of another script is drawn like (Unicode's confusables, the
// pairs a reader cannot tell apart in common fonts), or -1. Unlike the forms above these are
// letters of living alphabets: Cyrillic "а", "о", "с" fill every Russian sentence. So they ask
// for a second scan only where a Latin word is being spelled with them (`hides`).
int confusable_of(std::uint32_t cp) {
  switch (cp) {
    case 0x01C0:  // Latin letter dental click
      return 'l';
    case 0x0251:  // Latin alpha
      return 'a';
    case 0x0261:  // Latin script g
      return 'g';
    // Greek
    case 0x0391:
      return 'A';
    case 0x0392:
      return 'B';
    case 0x0395:
      return 'E';
    case 0x0396:
      return 'Z';
    case 0x0397:
      return 'H';
    case 0x0399:
      return 'I';
    case 0x039A:
      return 'K';
    case 0x039C:
      return 'M';
    case 0x039D:
      return 'N';
    case 0x039F:
      return 'O';
    case 0x03A1:
      return 'P';
    case 0x03A4:
      return 'T';
    case 0x03A5:
      return 'Y';
    case 0x03A7:
      return 'X';
    case 0x03BD:
      return 'v';
    case 0x03BF:
      return 'o';
    case 0x03F2:
      return 'c';
    case 0x03F3:
      return 'j';
    case 0x03F9:
      return 'C';
    // Cyrillic
    case 0x0405:
      return 'S';
    case 0x0406:
    case 0x04C0:
      return 'I';
    case 0x0408:
      return 'J';
    case 0x0410:
      return 'A';
    case 0x0412:
      return 'B';
    case 0x0415:
      return 'E';
    case 0x041A:
      return 'K';
    case 0x041C:
      return 'M';
    case 0x041D:
      return 'H';
    case 0x041E:
      return 'O';
    case 0x0420:
      return 'P';
    case 0x0421:
      return 'C';
    case 0x0422:
      return 'T';
    case 0x0425:
      return 'X';
    case 0x0430:
      return 'a';
    case 0x0435:
      return 'e';
    case 0x043E:
      return 'o';
    case 0x0440:
      return 'p';
    case 0x0441:
      return 'c';
    case 0x0443:
    case 0x04AF:
      return 'y';
    case 0x0445:
      return 'x';
    case 0x0455:
      return 's';
    case 0x0456:
      return 'i';
    case 0x0458:
      return 'j';
    case 0x04AE:
      return 'Y';
    case 0x04BB:
      return 'h';
    case 0x04CF:
      return 'l';
    case 0x0501:
      return 'd';
    case 0x051A:
      return 'Q';
    case 0x051B:
      return 'q';
    case 0x051C:
      return 'W';
    case 0x051D:
      return 'w';
    // Armenian
    case 0x0566:
      return 'q';
    case 0x0570:
      return 'h';
    case 0x0578:
      return 'n';
    case 0x057D:
      return 'u';
    case 0x0581:
      return 'g';
    case 0x0585:
      return 'o';
    default:
      return -1;
  }
}

// Whether a character starting with these two bytes can be one of the above: most letters of
// the scripts sharing those lead bytes (Arabic, Devanagari, kana, emoji) are not decoded.
constexpr bool may_fold(unsigned lead, unsigned second) {
  switch (lead) {
    case 0xC2:
      return second == 0xAD || second == 0xB2 || second == 0xB3 || second == 0xB9;
    case 0xC7:
      return second == 0x80;
    case 0xC9:
      return second == 0x91 || second == 0xA1;
    case 0xCC:
      return true;  // combining marks U+0300..U+033F
    case 0xCD:
      return second <= 0xAF;
    case 0xCE:
      return (second >= 0x91 && second <= 0xA7) || second == 0xBD || second == 0xBF;
    case 0xCF:
      return second == 0xB2 || second == 0xB3 || second == 0xB9;
    case 0xD0:
      return second == 0x85 || second == 0x86 || second == 0x88 ||
             (second >= 0x90 && second <= 0xA5) || second == 0xB0 || second == 0xB5 ||
             second == 0xBE;
    case 0xD1:
      return second == 0x80 || second == 0x81 || second == 0x83 || second == 0x85 ||
             second == 0x95 || second == 0x96 || second == 0x98;
    case 0xD2:
      return second == 0xAE || second == 0xAF || second == 0xBB;
    case 0xD3:
      return second == 0x80 || second == 0x8F;
    case 0xD4:
      return second == 0x81 || (second >= 0x9A && second <= 0x9D);
    case 0xD5:
      return second == 0xA6 || second == 0xB0 || second == 0xB8 || second == 0xBD;
    case 0xD6:
      return second == 0x81 || second == 0x85;
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
      return second == 0x80 || second == 0x81 || second == 0x82 || second == 0x84 ||
             second == 0x85 || (second >= 0x91 && second <= 0x93);
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

// may_fold() as a table: per lead byte, a bit per second byte 0x80..0xBF.
constexpr auto kFoldSeconds = [] {
  std::array<std::uint64_t, 256> t{};
  for (unsigned lead = 0xC0; lead < 256; ++lead) {
    for (unsigned second = 0x80; second < 0xC0; ++second) {
      if (may_fold(lead, second)) t[lead] |= std::uint64_t{1} << (second - 0x80);
    }
  }
  return t;
}();

bool may_fold_fast(unsigned char lead, unsigned char second) {
  return second >= 0x80 && second < 0xC0 && ((kFoldSeconds[lead] >> (second - 0x80)) & 1) != 0;
}

Fold fold_at(std::string_view t, std::size_t i) {
  if (i + 1 >= t.size() ||
      !may_fold_fast(static_cast<unsigned char>(t[i]), static_cast<unsigned char>(t[i + 1]))) {
    return {};
  }
  const CodePoint c = decode_at(t, i);
  if (c.length == 0) return {};
  if (invisible(c.cp)) return {c.length, -1};
  if (c.cp < 0x600) {  // the look-alikes; no form of ascii_of() is below U+0660 but ¹²³
    const int l = confusable_of(c.cp);
    if (l >= 0) return {c.length, l, true};
  }
  const int a = ascii_of(c.cp);
  if (a >= 0) return {c.length, a};
  return {};
}

bool alnum(unsigned c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// A byte that can stand inside a key, a number or a word a rule looks for (a phone number's
// parentheses too: `<U+FEFF>(415)<U+FEFF> 555-2671`).
bool token_byte(unsigned c) {
  return alnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '+' || c == '=' ||
         c == ':' || c == '@' || c == '(' || c == ')';
}

bool ascii_byte(unsigned char c) {
  return c < 0x80;
}

// Bytes of ASCII space or punctuation that may stand between a word of look-alikes and the
// ASCII word next to it (`key: К…`, `"id" : "К…`, pretty-printed JSON's `":\n    "К…`).
constexpr std::size_t kWordGap = 8;

// Whether an ASCII letter or digit comes within kWordGap ASCII non-alphanumeric bytes before
// t[end] (reading back from end - 1) or from t[begin] on.
bool ascii_word_before(std::string_view t, std::size_t end) {
  for (std::size_t s = 0; s <= kWordGap && end > 0; ++s) {
    const auto c = static_cast<unsigned char>(t[--end]);
    if (alnum(c)) return true;
    if (!ascii_byte(c)) return false;
  }
  return false;
}

bool ascii_word_after(std::string_view t, std::size_t begin) {
  for (std::size_t s = 0; s <= kWordGap && begin < t.size(); ++s, ++begin) {
    const auto c = static_cast<unsigned char>(t[begin]);
    if (alnum(c)) return true;
    if (!ascii_byte(c)) return false;
  }
  return false;
}

// A character that can stand inside a word of look-alikes: a look-alike or a dropped one.
bool in_lookalike_word(const Fold& g) {
  return g.length != 0 && (g.lookalike || g.ascii < 0);
}

// Whether the look-alike letter at t[i] (all of them are 2 bytes long) helps spell a Latin
// word: it touches an ASCII letter or digit ("ignоre", "DЕ89…", "AKIА…"), or it begins or ends
// a word of two or more look-alikes (dropped characters inside it aside) with an ASCII word a
// few bytes before or after it ("ignore аӏӏ previous", "аӏӏ previous", "key: АКІА…"). A
// look-alike inside a Cyrillic, Greek or Armenian word, or a word of them among words of that
// script ("Не", "Все" at the start of a Russian sentence), is ordinary text: Russian prose
// asks for no second scan. The walks run only from a word's first letter with an ASCII word
// before it, or from its last with one after it (has_hidden_characters' filter).
bool spells_latin(std::string_view t, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(t[k]); };
  const auto fold_here = [&](std::size_t k) { return may_lead(byte(k)) ? fold_at(t, k) : Fold{}; };
  const std::size_t n = t.size();
  if (i > 0 && alnum(byte(i - 1))) return true;
  if (i + 2 < n && alnum(byte(i + 2))) return true;
  // The word's first letter, an ASCII word before it: the word must end at ASCII.
  if (i > 0 && ascii_byte(byte(i - 1)) && ascii_word_before(t, i)) {
    std::size_t letters = 0, k = i;
    for (Fold g = fold_here(k); k < n && in_lookalike_word(g); g = k < n ? fold_here(k) : Fold{}) {
      letters += g.lookalike;
      k += g.length;
    }
    if (letters >= 2 && (k == n || ascii_byte(byte(k)))) return true;
  }
  // The word's last letter, an ASCII word after it: the word must start after ASCII.
  if (i + 2 < n && ascii_byte(byte(i + 2)) && ascii_word_after(t, i + 2)) {
    std::size_t letters = 1, k = i;
    while (k > 0) {
      std::size_t lead = k - 1;
      while (lead > 0 && k - lead < 4 && (byte(lead) & 0xC0) == 0x80) --lead;
      const Fold g = fold_here(lead);
      if (!in_lookalike_word(g) || lead + g.length != k) break;
      letters += g.lookalike;
      k = lead;
    }
    if (letters >= 2 && (k == 0 || ascii_byte(byte(k - 1)))) return true;
  }
  return false;
}

// A no-break, thin or narrow no-break space at t[i] (how web pages and French typography set
// apart the groups of an IBAN): its length, or 0.
std::size_t group_space(std::string_view t, std::size_t i) {
  const auto at = [&](std::size_t k) {
    return k < t.size() ? static_cast<unsigned char>(t[k]) : 0u;
  };
  if (at(i) == 0xC2 && at(i + 1) == 0xA0) return 2;
  if (at(i) == 0xE2 && at(i + 1) == 0x80 && (at(i + 2) == 0x89 || at(i + 2) == 0xAF)) return 3;
  return 0;
}

// Horizontal white space at t[i]: an ASCII space or tab, or a Unicode space (no-break U+00A0,
// Ogham U+1680, U+2000..U+200A, narrow no-break U+202F, medium mathematical U+205F, ideographic
// U+3000). Its length, or 0.
std::size_t space_at(std::string_view t, std::size_t i) {
  const auto at = [&](std::size_t k) {
    return k < t.size() ? static_cast<unsigned char>(t[k]) : 0u;
  };
  switch (at(i)) {
    case ' ':
    case '\t':
      return 1;
    case 0xC2:
      return at(i + 1) == 0xA0 ? 2 : 0;
    case 0xE1:
      return at(i + 1) == 0x9A && at(i + 2) == 0x80 ? 3 : 0;
    case 0xE2:
      if (at(i + 1) == 0x80 && ((at(i + 2) >= 0x80 && at(i + 2) <= 0x8A) || at(i + 2) == 0xAF)) {
        return 3;
      }
      return at(i + 1) == 0x81 && at(i + 2) == 0x9F ? 3 : 0;
    case 0xE3:
      return at(i + 1) == 0x80 && at(i + 2) == 0x80 ? 3 : 0;
    default:
      return 0;
  }
}

// The run of horizontal white space that starts at t[i] (space_at(t, i) != 0), with the
// characters that render as nothing inside it: where it ends, and whether it reads other than
// as one ASCII space or tab (two spaces or more, a Unicode space, a dropped character).
struct SpaceRun {
  std::size_t end = 0;
  bool wide = false;
};

SpaceRun space_run(std::string_view t, std::size_t i) {
  SpaceRun r{i, false};
  bool spaced = false;
  while (r.end < t.size()) {
    if (const std::size_t l = space_at(t, r.end); l != 0) {
      r.wide = r.wide || l > 1 || spaced;
      spaced = true;
      r.end += l;
      continue;
    }
    const Fold f = may_lead(static_cast<unsigned char>(t[r.end])) ? fold_at(t, r.end) : Fold{};
    if (f.length == 0 || f.ascii >= 0) break;
    r.wide = true;
    r.end += f.length;
  }
  return r;
}

// Whether the character at t[i] reads as an ASCII letter or digit: one, or a character the fold
// turns into one (a fullwidth or mathematical letter, a look-alike: `аӏӏ` reads "all").
bool reads_as_word(std::string_view t, std::size_t i) {
  const auto c = static_cast<unsigned char>(t[i]);
  if (c < 0x80) return alnum(c);
  const Fold f = may_lead(c) ? fold_at(t, i) : Fold{};
  return f.length != 0 && f.ascii >= 0 && alnum(static_cast<unsigned>(f.ascii));
}

// The same for the character that ends right before t[at] (0 < at).
bool reads_as_word_before(std::string_view t, std::size_t at) {
  std::size_t lead = at - 1;
  while (lead > 0 && at - lead < 4 && (static_cast<unsigned char>(t[lead]) & 0xC0) == 0x80) {
    --lead;
  }
  const auto c = static_cast<unsigned char>(t[lead]);
  if (c < 0x80) return lead + 1 == at && alnum(c);
  const Fold f = may_lead(c) ? fold_at(t, lead) : Fold{};
  return lead + f.length == at && f.length != 0 && f.ascii >= 0 &&
         alnum(static_cast<unsigned>(f.ascii));
}

// Whether the run of white space around t[i] (a byte next_spaced_run's filter marked: the
// first of two ASCII spaces or tabs, a lead byte of a Unicode space, or a lead byte after a
// space or tab) stands between two characters that read as ASCII letters or digits, one of
// them ASCII (characters that render as nothing aside), and reads other than as one space or
// tab; then `run` is where it begins and ends. `resume` is set past the run, so a long run is
// read once.
bool spaced_at(std::string_view t, std::size_t i, std::size_t& resume, SpacedRun& run) {
  if (i < resume) return false;
  std::size_t s = i;
  while (s > 0 && (t[s - 1] == ' ' || t[s - 1] == '\t')) --s;
  // A run that begins before `resume` was judged already: the filter also marks a lead byte
  // right after a run (a look-alike letter there ends it), and reading back from it finds the
  // run that was just returned.
  if (s < resume) return false;
  if (space_at(t, s) == 0) return false;
  const SpaceRun r = space_run(t, s);
  resume = r.end;
  // Characters that render as nothing before the run are read through, as the fold drops them
  // (`Ignore<U+FEFF>  all`).
  std::size_t left = s;
  while (left > 0) {
    std::size_t lead = left - 1;
    while (lead > 0 && left - lead < 4 && (static_cast<unsigned char>(t[lead]) & 0xC0) == 0x80) {
      --lead;
    }
    const Fold f = may_lead(static_cast<unsigned char>(t[lead])) ? fold_at(t, lead) : Fold{};
    if (f.length == 0 || f.ascii >= 0 || lead + f.length != left) break;
    left = lead;
  }
  if (!r.wide || left == 0 || r.end >= t.size()) return false;
  // Both sides read as letters or digits, and one of them is ASCII: a run between two words of
  // Russian, Greek or Armenian (an NBSP after a one-letter preposition, everywhere in typeset
  // Russian) is ordinary text, as its look-alikes are.
  const bool ascii_before = alnum(static_cast<unsigned char>(t[left - 1]));
  const bool ascii_after = alnum(static_cast<unsigned char>(t[r.end]));
  if (!(ascii_before || ascii_after) || !(ascii_before || reads_as_word_before(t, left)) ||
      !(ascii_after || reads_as_word(t, r.end))) {
    return false;
  }
  run = {s, r.end};
  return true;
}

// Whether the byte pair at p[0], p[1] may start what spaced_at() looks at: two spaces or tabs,
// a space or tab before a lead byte (of a Unicode space or of a character that renders as
// nothing), or a Unicode space's lead byte.
bool spaced_candidate(const unsigned char* p) {
  const auto space = [](unsigned char c) { return c == ' ' || c == '\t'; };
  return (space(p[0]) && (space(p[1]) || p[1] >= 0xC0)) || p[0] == 0xC2 ||
         (p[0] >= 0xE1 && p[0] <= 0xE3);
}

// A character that can hide a match: one read as an ASCII digit or letter, or a dropped
// character next to a byte that could belong to a token ("AKIA<U+200B>4XCI", "SSN:
// <U+2060>536228745") or next to a look-alike ("аӏӏ<U+200B>", a look-alike struck through),
// or a group space between ASCII digits or letters and a look-alike ("GB82<U+00A0>ԜЕЅТ").
// Dropped characters between other characters are ordinary text: the variation selector of an
// emoji, the joiners of an emoji sequence, the tags of a flag, bidi marks between right-to-left
// words. Fullwidth punctuation and the ideographic space alone are ordinary CJK typography
// (`，`, `：`, `（`). A text holding only those is not scanned twice. When a dropped character
// hides nothing, neither does any of the run of dropped characters it starts: `resume` is set
// past the run, so a text of marks is read once.
bool hides(std::string_view t, std::size_t i, std::size_t& resume) {
  const auto lookalike_before = [&](std::size_t k) {
    return k >= 2 && may_lead(static_cast<unsigned char>(t[k - 2])) && fold_at(t, k - 2).lookalike;
  };
  const auto lookalike_at = [&](std::size_t k) {
    return k < t.size() && may_lead(static_cast<unsigned char>(t[k])) && fold_at(t, k).lookalike;
  };
  if (const std::size_t space = group_space(t, i); space != 0) {
    const bool alnum_before = i > 0 && alnum(static_cast<unsigned char>(t[i - 1]));
    const bool alnum_after =
        i + space < t.size() && alnum(static_cast<unsigned char>(t[i + space]));
    return (alnum_before && lookalike_at(i + space)) || (lookalike_before(i) && alnum_after);
  }
  const Fold f = fold_at(t, i);
  if (f.length == 0) return false;
  if (f.lookalike) return spells_latin(t, i);
  if (f.ascii >= 0) return alnum(static_cast<unsigned>(f.ascii));
  if (i > 0 && token_byte(static_cast<unsigned char>(t[i - 1]))) return true;
  if (lookalike_before(i)) return true;
  std::size_t next = i + f.length;
  while (next < t.size()) {
    const Fold g = fold_at(t, next);
    if (g.length == 0 || g.ascii >= 0) break;
    next += g.length;
  }
  if (next < t.size() && (token_byte(static_cast<unsigned char>(t[next])) || lookalike_at(next))) {
    return true;
  }
  resume = next;
  return false;
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

#if defined(__x86_64__)
__attribute__((target("avx2"))) inline __m256i load32(const unsigned char* at) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
}

// Bytes of x within [lo, hi], both ASCII (signed compares: bytes >= 0x80 are negative).
__attribute__((target("avx2"))) inline __m256i in32(__m256i x, char lo, char hi) {
  return _mm256_and_si256(_mm256_cmpgt_epi8(x, _mm256_set1_epi8(static_cast<char>(lo - 1))),
                          _mm256_cmpgt_epi8(_mm256_set1_epi8(static_cast<char>(hi + 1)), x));
}

__attribute__((target("avx2"))) inline __m256i alnum32(__m256i x) {
  return _mm256_or_si256(in32(x, '0', '9'),
                         in32(_mm256_or_si256(x, _mm256_set1_epi8(0x20)), 'a', 'z'));
}

// Lanes of the 32 bytes at p whose look-alike could spell a Latin word (spells_latin): an ASCII
// letter or digit right before or after it (the character is 2 bytes), or an ASCII word within
// kWordGap bytes of ASCII space or punctuation before or after it. Reads p[-16] to p[47]: the
// classes of those 64 bytes are two bit masks, shifted per neighbour.
__attribute__((target("avx2"))) inline std::uint32_t near_latin32(const unsigned char* p) {
  constexpr int kFrom = 16;  // p[-kFrom] is bit 0 of the masks
  static_assert(kWordGap + 1 <= kFrom && kWordGap + 2 + 31 < 64 - kFrom);
  const __m256i lo = load32(p - kFrom);
  const __m256i hi = load32(p - kFrom + 32);
  const std::uint64_t alnums =
      static_cast<std::uint32_t>(_mm256_movemask_epi8(alnum32(lo))) |
      std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(alnum32(hi)))} << 32;
  const std::uint64_t asciis =
      ~(static_cast<std::uint32_t>(_mm256_movemask_epi8(lo)) |
        std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))} << 32);
  const auto a = [&](int k) { return static_cast<std::uint32_t>(alnums >> (kFrom + k)); };
  const auto s = [&](int k) { return static_cast<std::uint32_t>(asciis >> (kFrom + k)); };
  constexpr int gap = static_cast<int>(kWordGap);
  // ascii_word_before(t, i): a separator at i - 1, then a letter or digit by i - 1 - gap.
  std::uint32_t word = a(-1 - gap);
  for (int k = -gap; k <= -2; ++k) word = a(k) | (s(k) & word);
  const std::uint32_t before = s(-1) & word;
  // ascii_word_after(t, i + 2): a separator at i + 2, then a letter or digit by i + 2 + gap.
  word = a(2 + gap);
  for (int k = 1 + gap; k >= 3; --k) word = a(k) | (s(k) & word);
  const std::uint32_t after = s(2) & word;
  return a(-1) | a(2) | before | after;
}

// has_hidden_characters' pass over 32 bytes at a time from `i` (>= 16) while 48 bytes remain:
// the lead bytes of may_lead() are classed by two nibble lookups, and a look-alike's lead byte
// is looked at only where near_latin32 says it could spell a Latin word. Returns where it
// stopped; `found` when a character hides. `resume`: see hides().
__attribute__((target("avx2"))) std::size_t hidden_blocks_avx2(std::string_view text, std::size_t i,
                                                               std::size_t& resume, bool& found) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  // Classes by high nibble (C, D, E, F) and low nibble: 1, 4, 16, 32 are the lead bytes that
  // always get a look (C2 CC CD, D8 D9 DB DF, E0-E3 EF, F0 F3); 2 and 8 the look-alikes' (C7
  // C9 CE CF, D0-D6).
  const __m256i high = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 | 2, 4 | 8, 16, 32, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 | 2, 4 | 8, 16, 32);
  const __m256i low = _mm256_setr_epi8(56, 24, 25, 56, 8, 8, 8, 2, 4, 6, 0, 4, 1, 1, 2, 22, 56, 24,
                                       25, 56, 8, 8, 8, 2, 4, 6, 0, 4, 1, 1, 2, 22);
  const __m256i always = _mm256_set1_epi8(1 | 4 | 16 | 32);
  const __m256i lookalike = _mm256_set1_epi8(2 | 8);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  const __m256i zero = _mm256_setzero_si256();
  for (; i + 48 <= n; i += 32) {
    const __m256i v = load32(p + i);
    if (_mm256_movemask_epi8(v) == 0) continue;  // ASCII
    const __m256i cls = _mm256_and_si256(
        _mm256_shuffle_epi8(high, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)),
        _mm256_shuffle_epi8(low, _mm256_and_si256(v, nibble)));
    auto bits = ~static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(cls, always), zero)));
    const auto marked = ~static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_and_si256(cls, lookalike), zero)));
    if (marked != 0) bits |= marked & near_latin32(p + i);
    for (; bits != 0; bits &= bits - 1) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(bits));
      if (at >= resume && hides(text, at, resume)) {
        found = true;
        return i;
      }
    }
  }
  return i;
}
#endif

#if defined(__x86_64__)
// Bytes of x that are an ASCII space or tab: a byte's low nibble picks its only candidate
// (0 -> ' ', 9 -> '\t'; the others hold 0, which no byte of their nibble is; bytes >= 0x80 look
// up 0 and are not 0).
__attribute__((target("avx2"))) inline __m256i spaces32(__m256i x) {
  const __m256i table = _mm256_setr_epi8(' ', 0, 0, 0, 0, 0, 0, 0, 0, '\t', 0, 0, 0, 0, 0, 0, ' ',
                                         0, 0, 0, 0, 0, 0, 0, 0, '\t', 0, 0, 0, 0, 0, 0);
  return _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, x), x);
}

// The sign bits of lo, then hi.
__attribute__((target("avx2"), always_inline)) inline std::uint64_t mask64(__m256i lo, __m256i hi) {
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(lo)) |
         std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(hi))} << 32;
}

// Lead bytes of the Unicode spaces: 0xC2, 0xE1..0xE3.
__attribute__((target("avx2"))) inline std::uint32_t space_leads32(__m256i v) {
  const __m256i from_e1 = _mm256_sub_epi8(v, _mm256_set1_epi8(static_cast<char>(0xE1)));
  return static_cast<std::uint32_t>(_mm256_movemask_epi8(
      _mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(static_cast<char>(0xC2))),
                      _mm256_cmpeq_epi8(_mm256_min_epu8(from_e1, _mm256_set1_epi8(2)), from_e1))));
}

// next_spaced_run's look at the 64 bytes at p[i] (1 <= i, i + 65 <= size): two ASCII spaces or
// tabs in a row after a letter, a digit or a byte >= 0x80, the lead bytes of the Unicode
// spaces, and lead bytes after a space or tab are looked at (spaced_at); a block of none of
// them costs one test. True when a run between words was found.
__attribute__((target("avx2"), always_inline)) inline bool spaced_block_avx2(std::string_view text,
                                                                             std::size_t i,
                                                                             std::size_t& resume,
                                                                             SpacedRun& run) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const __m256i v0 = load32(p + i);
  const __m256i v1 = load32(p + i + 32);
  // First the common case, cheaply: no space or tab followed by another after a byte above
  // ' ' (a run's first pair follows a letter or digit; indentation and the insides of runs
  // follow a line break or a space), and no byte >= 0x80 (sign bits).
  const __m256i before0 = load32(p + i - 1);
  const __m256i before1 = load32(p + i + 31);
  const __m256i after0 = load32(p + i + 1);
  const __m256i after1 = load32(p + i + 33);
  const __m256i space = _mm256_set1_epi8(' ');
  const __m256i pairs0 =
      _mm256_and_si256(_mm256_and_si256(spaces32(v0), spaces32(after0)),
                       _mm256_or_si256(_mm256_cmpgt_epi8(before0, space), before0));
  const __m256i pairs1 =
      _mm256_and_si256(_mm256_and_si256(spaces32(v1), spaces32(after1)),
                       _mm256_or_si256(_mm256_cmpgt_epi8(before1, space), before1));
  const __m256i coarse = _mm256_or_si256(_mm256_or_si256(pairs0, pairs1), _mm256_or_si256(v0, v1));
  if (_mm256_movemask_epi8(coarse) == 0) return false;
  // Bit k: a pair at p[i + k] after a letter, a digit or a byte >= 0x80 (a character that
  // renders as nothing may stand between the word and the run).
  std::uint64_t bits = mask64(_mm256_and_si256(pairs0, _mm256_or_si256(alnum32(before0), before0)),
                              _mm256_and_si256(pairs1, _mm256_or_si256(alnum32(before1), before1)));
  const bool high = _mm256_movemask_epi8(_mm256_or_si256(v0, v1)) != 0;
  if (high) {
    // Lead bytes of the Unicode spaces, and any lead byte right after a space or tab (a
    // character that renders as nothing inside a run: `Ignore <U+FEFF> all`).
    const std::uint64_t spaces = mask64(spaces32(v0), spaces32(v1));
    const std::uint64_t after_space = (spaces << 1) | (p[i - 1] == ' ' || p[i - 1] == '\t' ? 1 : 0);
    const __m256i lead = _mm256_set1_epi8(static_cast<char>(0xBF));
    const std::uint64_t leads =
        static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi8(v0, lead)) &
                                   _mm256_movemask_epi8(v0)) |
        std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpgt_epi8(v1, lead)) &
                                                 _mm256_movemask_epi8(v1))}
            << 32;
    bits |= space_leads32(v0) | std::uint64_t{space_leads32(v1)} << 32 | (leads & after_space);
  }
  for (; bits != 0; bits &= bits - 1) {
    if (spaced_at(text, i + static_cast<std::size_t>(__builtin_ctzll(bits)), resume, run)) {
      return true;
    }
  }
  return false;
}

// next_spaced_run's pass from `i`, 64 bytes at a time, the last block overlapping the one before
// it so that it ends at the text's end (a candidate looked at twice is judged the same twice).
// A run's first pair has a letter, a digit or a byte >= 0x80 before it (indentation and the
// spaces after a full stop are not looked at); a text's first byte starts no run. Returns where it
// stopped (the text's end, or before 66 bytes where it began); `found` when a run between words was
// found.
__attribute__((target("avx2"))) std::size_t spaced_blocks_avx2(std::string_view text, std::size_t i,
                                                               std::size_t& resume, SpacedRun& run,
                                                               bool& found) {
  const std::size_t n = text.size();
  if (i == 0) i = 1;
  for (; i + 65 <= n; i += 64) {
    if (spaced_block_avx2(text, i, resume, run)) {
      found = true;
      return i;
    }
  }
  if (i >= n || n < 66) return i;
  found = spaced_block_avx2(text, n - 65, resume, run);
  return n;
}
#endif

std::size_t spaced_blocks_none(std::string_view, std::size_t i, std::size_t&, SpacedRun&, bool&) {
  return i;
}

#if defined(__x86_64__)
// The fold's copy of a stretch of bytes that fold to themselves: where the stretch from p[i]
// ends (the first byte >= 0x80, or with `collapse` a space or tab that a space, a tab or a byte
// >= 0x80 follows), 32 bytes at a time while 33 remain; it may stop early (the caller goes on
// byte by byte).
__attribute__((target("avx2"))) std::size_t plain_stretch_avx2(const unsigned char* p,
                                                               std::size_t i, std::size_t n,
                                                               bool collapse) {
  for (; i + 33 <= n; i += 32) {
    const __m256i v = load32(p + i);
    __m256i special = v;  // sign bits: bytes >= 0x80
    if (collapse) {
      const __m256i next = load32(p + i + 1);
      special = _mm256_or_si256(
          special, _mm256_and_si256(spaces32(v), _mm256_or_si256(spaces32(next), next)));
    }
    const auto bits = static_cast<std::uint32_t>(_mm256_movemask_epi8(special));
    if (bits != 0) return i + static_cast<std::size_t>(__builtin_ctz(bits));
  }
  return i;
}

// begin[k] = first + k and end[k] = first + k + 1 for k < len.
__attribute__((target("avx2"))) void fill_origins_avx2(std::uint32_t* begin, std::uint32_t* end,
                                                       std::uint32_t first, std::size_t len) {
  __m256i at = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first)),
                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i eight = _mm256_set1_epi32(8);
  std::size_t k = 0;
  for (; k + 8 <= len; k += 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(begin + k), at);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(end + k), _mm256_add_epi32(at, one));
    at = _mm256_add_epi32(at, eight);
  }
  for (; k < len; ++k) {
    begin[k] = first + static_cast<std::uint32_t>(k);
    end[k] = first + static_cast<std::uint32_t>(k) + 1;
  }
}
#endif

std::size_t plain_stretch_none(const unsigned char*, std::size_t i, std::size_t, bool) {
  return i;
}

void fill_origins_scalar(std::uint32_t* begin, std::uint32_t* end, std::uint32_t first,
                         std::size_t len) {
  for (std::size_t k = 0; k < len; ++k) {
    begin[k] = first + static_cast<std::uint32_t>(k);
    end[k] = first + static_cast<std::uint32_t>(k) + 1;
  }
}

std::size_t hidden_blocks_none(std::string_view, std::size_t i, std::size_t&, bool&) {
  return i;
}

// The passes this CPU runs, picked once.
#if defined(__x86_64__)
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
const bool g_avx2 = cpu_has_avx2();
const auto g_hidden_blocks = g_avx2 ? hidden_blocks_avx2 : hidden_blocks_none;
const auto g_ascii_prefix = g_avx2 ? ascii_prefix_avx2 : ascii_prefix_scalar;
const auto g_spaced_blocks = g_avx2 ? spaced_blocks_avx2 : spaced_blocks_none;
const auto g_plain_stretch = g_avx2 ? plain_stretch_avx2 : plain_stretch_none;
const auto g_fill_origins = g_avx2 ? fill_origins_avx2 : fill_origins_scalar;
#else
const auto g_plain_stretch = plain_stretch_none;
const auto g_fill_origins = fill_origins_scalar;
const auto g_spaced_blocks = spaced_blocks_none;
const auto g_hidden_blocks = hidden_blocks_none;
const auto g_ascii_prefix = ascii_prefix_scalar;
#endif

}  // namespace

bool renders_as_nothing(std::uint32_t cp) {
  return invisible(cp);
}

bool has_hidden_characters(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t resume = 0;  // positions before it are inside a run of dropped characters judged
  const auto look = [&](std::size_t at) { return at >= resume && hides(text, at, resume); };
  // Most texts are ASCII: skip them 128 bytes at a time (a fifth of the 16-byte pass's cost).
  std::size_t i = g_ascii_prefix(p, n);
  for (; i < 16 && i < n; ++i) {
    if (may_lead(p[i]) && look(i)) return true;
  }
  bool found = false;
  i = g_hidden_blocks(text, i, resume, found);
  if (found) return true;
#if defined(__SSE2__)
  // What the 32-byte pass left (all of the text without AVX2): every lead byte is looked at.
  const auto lead_byte = [](unsigned char c) { return _mm_set1_epi8(static_cast<char>(c)); };
  const __m128i leads[] = {lead_byte(0xC2), lead_byte(0xCC), lead_byte(0xCD), lead_byte(0xD8),
                           lead_byte(0xD9), lead_byte(0xDB), lead_byte(0xDF), lead_byte(0xE0),
                           lead_byte(0xE1), lead_byte(0xE2), lead_byte(0xE3), lead_byte(0xEF),
                           lead_byte(0xF0), lead_byte(0xF3), lead_byte(0xC7), lead_byte(0xC9)};
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    if (_mm_movemask_epi8(v) == 0) continue;  // ASCII
    // 0xCE..0xD6: the look-alikes' other lead bytes.
    const __m128i from_ce = _mm_sub_epi8(v, _mm_set1_epi8(static_cast<char>(0xCE)));
    __m128i lead = _mm_cmpeq_epi8(_mm_min_epu8(from_ce, _mm_set1_epi8(8)), from_ce);
    for (const __m128i& l : leads) lead = _mm_or_si128(lead, _mm_cmpeq_epi8(v, l));
    for (auto bits = static_cast<unsigned>(_mm_movemask_epi8(lead)); bits != 0; bits &= bits - 1) {
      if (look(i + static_cast<std::size_t>(__builtin_ctz(bits)))) return true;
    }
  }
#endif
  for (; i < n; ++i) {
    if (may_lead(p[i]) && look(i)) return true;
  }
  return false;
}

SpacedRun next_spaced_run(std::string_view text, std::size_t from) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t resume = from;
  SpacedRun run;
  bool found = false;
  std::size_t i = g_spaced_blocks(text, from, resume, run, found);
  if (found) return run;
  for (; i < n; ++i) {
    const unsigned char pair[2] = {p[i], i + 1 < n ? p[i + 1] : static_cast<unsigned char>(0)};
    if (spaced_candidate(pair) && spaced_at(text, i, resume, run)) return run;
  }
  return {};
}

bool has_spaced_words(std::string_view text) {
  return next_spaced_run(text, 0).begin != std::string_view::npos;
}

bool fold_hidden_characters(std::string_view text, FoldedText& out, Spaces spaces) {
  const std::size_t n = text.size();
  if (n >= std::numeric_limits<std::uint32_t>::max()) {
    out.text.clear();
    out.begin.clear();
    out.end.clear();
    return false;
  }
  // Folding never lengthens the text: written in place, then cut to the length written. The
  // buffers keep their size from the previous fold, so growing them to n zeroes only what they
  // grow by.
  out.text.resize(n);
  out.begin.resize(n);
  out.end.resize(n);
  char* to = out.text.data();
  std::uint32_t* begin = out.begin.data();
  std::uint32_t* end = out.end.data();
  std::size_t w = 0;
  const auto put = [&](char c, std::size_t from, std::size_t until) {
    to[w] = c;
    begin[w] = static_cast<std::uint32_t>(from);
    end[w] = static_cast<std::uint32_t>(until);
    ++w;
  };
  // Folds the character at text[i]; returns where the next one starts.
  const auto fold_one = [&](std::size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool foldable =
        c >= 0xC0 && i + 1 < n && may_fold_fast(c, static_cast<unsigned char>(text[i + 1]));
    const Fold f = foldable ? fold_at(text, i) : Fold{};
    if (f.length == 0) {
      put(text[i], i, i + 1);
      return i + 1;
    }
    if (f.ascii >= 0) put(static_cast<char>(f.ascii), i, i + f.length);
    return i + f.length;
  };
  const bool collapse = spaces == Spaces::kCollapse;
  // What may start a run to collapse after a space or tab: another, or a Unicode space or a
  // dropped character.
  const auto runs_on = [&](std::size_t k) {
    if (k >= n) return false;
    const auto c = static_cast<unsigned char>(text[k]);
    return c == ' ' || c == '\t' || c >= 0x80;
  };
  // Whether text[k] is copied as it is: ASCII, and not a space or tab that a run may follow.
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const auto plain = [&](std::size_t k) {
    const auto c = bytes[k];
    return c < 0x80 && (!collapse || (c != ' ' && c != '\t') || !runs_on(k + 1));
  };
  for (std::size_t i = 0; i < n;) {
    // Most bytes are ASCII, and most spaces stand alone: a stretch of them is found and copied
    // with its origins 32 bytes at a time.
    if (plain(i)) {
      std::size_t stop = g_plain_stretch(bytes, i + 1, n, collapse);
      while (stop < n && plain(stop)) ++stop;
      const std::size_t len = stop - i;
      std::memcpy(to + w, text.data() + i, len);
      g_fill_origins(begin + w, end + w, static_cast<std::uint32_t>(i), len);
      w += len;
      i = stop;
      continue;
    }
    if (collapse && space_at(text, i) != 0) {
      const SpaceRun r = space_run(text, i);
      if (w > 0 && alnum(static_cast<unsigned char>(to[w - 1])) && r.end < n &&
          reads_as_word(text, r.end) && r.wide) {
        put(' ', i, r.end);
      } else {
        for (std::size_t k = i; k < r.end;) k = fold_one(k);
      }
      i = r.end;
      continue;
    }
    i = fold_one(i);
  }
  out.text.resize(w);
  out.begin.resize(w);
  out.end.resize(w);
  return true;
}

}  // namespace edgeward::rules
