#pragma once
// Characters that hide a match from the patterns without changing what a reader (or a model)
// sees: a zero-width space pasted inside a key from a web page that breaks long tokens, a card
// number typed in fullwidth digits, "ｉｇｎｏｒｅ ｐｒｅｖｉｏｕｓ ｉｎｓｔｒｕｃｔｉｏｎｓ". Block
// scans look at the text a second time with them folded away (Scanner::scan), and report what only
// the folded text holds at its place in the original.
//
// Folded:
//  - dropped (they render as nothing): U+00AD soft hyphen, U+034F combining grapheme joiner,
//    U+061C Arabic letter mark, U+115F/U+1160/U+3164/U+FFA0 Hangul fillers, U+17B4/U+17B5,
//    U+180B..U+180F (Mongolian selectors and separator), U+200B..U+200F (zero-width space,
//    joiners, LRM, RLM), U+202A..U+202E (bidi embeddings and overrides), U+2060..U+206F (word
//    joiner, invisible operators, isolates), U+FE00..U+FE0F and U+E0100..U+E01EF (variation
//    selectors), U+FEFF, U+FFF9..U+FFFB (annotation controls), U+1BCA0..U+1BCA3 (shorthand
//    format controls), U+1D173..U+1D17A (musical format controls), U+E0000..U+E007F (tags);
//  - to ASCII (what NFKC or a digit's value gives, and what a model or a person reads): the
//    fullwidth forms U+FF01–U+FF5E (`！` … `～`, digits and Latin letters included), U+3000
//    ideographic space to a space, the decimal digits of Arabic-Indic, Persian, NKo, the Indic
//    scripts, Thai, Lao, Tibetan, Myanmar, Khmer and Mongolian, superscript and subscript
//    digits, circled digits and letters, and the mathematical alphanumerics (bold, italic,
//    script, fraktur, double-struck, sans-serif, monospace letters and digits), the Kelvin sign
//    and the one-letter Roman numerals;
//  - dropped too: the combining marks U+0300..U+036F ("i" with a diaeresis or a strike-through
//    still reads "i");
//  - to the ASCII letter they are drawn like: Cyrillic, Greek and Armenian look-alikes (Cyrillic
//    а е о р с у х і ј ѕ һ ӏ ԁ and the capitals А В Е К М Н О Р С Т Х, Greek capitals and ο ν,
//    Armenian օ ս հ ո ց զ; the list is confusable_of() in text_fold.cpp).
// Everything else is copied byte for byte, invalid UTF-8 included.
//
// A second scan is asked for (has_hidden_characters) by a character folded to an ASCII digit or
// letter, by a dropped character next to a byte that can belong to a token or next to a
// look-alike, by a no-break or thin space between ASCII and a look-alike, and by a look-alike
// letter that helps spell a Latin word: next to an ASCII letter or digit ("ignоre", "AKIА…"), or
// in a word of two or more look-alikes a few bytes from an ASCII word ("ignore аӏӏ previous",
// "key: АКІА…"). The
// variation selector of an emoji, the joiners of an emoji sequence, a flag's tags, marks between
// words, and Russian, Greek or Armenian prose are ordinary text.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeward::rules {

struct FoldedText {
  std::string text;
  // For each byte of `text`: where the source bytes it stands for begin and end in the
  // original, so a span [s, e) of `text` is [begin[s], end[e - 1]) there (a dropped character
  // inside the span is inside the original span too).
  std::vector<std::uint32_t> begin;
  std::vector<std::uint32_t> end;
};

// True for a character the fold drops (above): it renders as nothing, or is a combining mark.
bool renders_as_nothing(std::uint32_t cp);

// True when `text` holds a character that can hide a match (above). One pass; an ASCII text is
// read 128 bytes at a time.
bool has_hidden_characters(std::string_view text);

// Runs of white space between words. "Ignore  all previous instructions" with two spaces,
// `DE89<TAB>3704 …`, "Ignore<U+00A0>all …": a model reads them as the single space the patterns
// expect, so a request's text is looked at with each run of horizontal white space (spaces,
// tabs, the Unicode spaces U+00A0, U+1680, U+2000..U+200A, U+202F, U+205F, U+3000, and dropped
// characters among them) that stands between two ASCII letters or digits read as one space.
// Runs at the start of a line (indentation) or next to punctuation are left as they are: they
// are everywhere in code and tables, and split no word a rule spells. Runs that hold a line
// break are left too (docs/rules.md).
enum class Spaces { kKeep, kCollapse };

// True when `text` holds such a run other than one ASCII space or one tab (a pattern's `\s`
// reads a single tab already; tab-separated values ask for no second look). One pass, 64 bytes
// at a time.
bool has_spaced_words(std::string_view text);

// The first such run that begins at or after `from`, as [begin, end) of its white space; both
// npos when there is none. `from` is 0 or the end of a run this returned: from inside a run,
// the vector pass and the byte-by-byte one may disagree on whether it is reported.
struct SpacedRun {
  std::size_t begin = std::string_view::npos;
  std::size_t end = std::string_view::npos;
};
SpacedRun next_spaced_run(std::string_view text, std::size_t from);

// Folds `text` into `out` (its buffers are reused), and with Spaces::kCollapse each such run of
// white space between two words (the words as folded) into one space. Texts longer than 4 GiB
// are not folded (false): offsets are 32-bit.
bool fold_hidden_characters(std::string_view text, FoldedText& out, Spaces spaces = Spaces::kKeep);

}  // namespace edgeward::rules
