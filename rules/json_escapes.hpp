#pragma once
// JSON string escapes decoded with the origin of every decoded byte: for text that the rules
// read decoded (a tool call's arguments; a message, tool result or answer that holds JSON text
// or escapes written out), whose findings must be placed back on the text as it was written.

#include <cstddef>
#include <string>
#include <string_view>

#include "rules/text_fold.hpp"

namespace edgeward::rules {

// `text` with every JSON escape decoded wherever it stands (inside a string or not: JSON text
// has backslashes only there), as the tool that parses it reads it, into `out`, each output
// byte with the span [begin, end) of `text` it came from (FoldedText's layout: an escape
// spans its whole sequence). A surrogate pair becomes its code point, a lone surrogate U+FFFD;
// a malformed escape is kept as it is. What that gives is then read as free text
// (unescape_text) while it still holds an escape: the value a tool receives may itself be
// text with escapes written out, which the model reads. Unless `final`, it stops before an
// escape the text ends inside (`\`, `\u00`, a high surrogate whose low half may follow) and
// returns the bytes consumed; with `final` it consumes everything.
std::size_t unescape_json(std::string_view text, bool final, FoldedText& out);

// Escapes as a reader of free text (a model) reads them, at any depth. Text serialized into
// JSON twice (a tool result holding JSON, a log pasted into a prompt) reaches the rules with
// `\n` where a line broke, and `\\n` or `\\u0041` a level deeper; a model reads each as the
// line break or letter it stands for, while to the rules the `n` glued a word to the next one
// (`\nAKIA…` has no word boundary before the key). So:
//  - a run of backslashes before an escape letter is one escape (a run of more than 256 keeps
//    its first ones as written: no serializer nests that deep, and a stream waiting for the
//    letter re-reads at most that much); characters that render as nothing inside the run or
//    before the letter are read through (`\`, U+200B, `n`);
//  - the letters are JSON's and the hex escapes of other languages (`\xHH`, `\UHHHHHHHH`:
//    Python's repr of bytes writes `\x00AKIA…`); not `\a`, `\e`, `\v` or octal, which begin
//    folder names in Windows paths, and a drive's path (`C:\\Users\\nathan`) is read as written;
//  - a terminal's control sequence (ESC `[` … a final byte), raw or written out
//    (`\x1b[32m`), reads as a space: a coloured log's `m` glued the key after it;
//  - an escape of a character that renders as nothing (text_fold.hpp) decodes to a space:
//    written out it is in plain sight, a mark that sets apart what stands around it
//    (`x\u200bAKIA…` is a key), not hidden text (a sanitizer's `[\u200b-\u200f]` is code);
//  - what a pass gives is read again while it holds an escape (`\u005cn`: a backslash written
//    as an escape, then `n`), up to four passes in all.
// A run before any other byte (`\\d`, `C:\\Users`) is kept as written. Same contract as
// unescape_json otherwise; a backslash written as an escape that ends a text that is not
// `final` waits for what follows it, as a run does.
std::size_t unescape_text(std::string_view text, bool final, FoldedText& out);

// How a piece's escapes are read: as the JSON text a tool parses (tool-call arguments, schemas)
// or as free text a model reads (everything else).
enum class EscapeReading : unsigned char { kJson, kText };

inline std::size_t unescape(EscapeReading reading, std::string_view text, bool final,
                            FoldedText& out) {
  return reading == EscapeReading::kJson ? unescape_json(text, final, out)
                                         : unescape_text(text, final, out);
}

// The text `unescape` gives with `final`, without the spans (no finding to place yet).
void decode_escapes(EscapeReading reading, std::string_view text, std::string& out);

// True when unescape_text would decode an escape in `text`: the only texts worth a second,
// decoded scan.
bool holds_text_escape(std::string_view text);

}  // namespace edgeward::rules
