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
// a malformed escape is kept as it is. Unless `final`, it stops before an escape the text ends
// inside (`\`, `\u00`, a high surrogate whose low half may follow) and returns the bytes
// consumed; with `final` it consumes everything.
std::size_t unescape_json(std::string_view text, bool final, FoldedText& out);

// unescape_json as a reader of free text reads escapes: a run of backslashes before an escape
// letter is one escape, whatever depth it was written at. Text serialized into JSON twice
// (a tool result holding JSON, a log pasted into a prompt) reaches the rules with `\n` where a
// line broke, and `\\n` or `\\u0041` a level deeper; a model reads each as the line break or
// letter it stands for, while to the rules the `n` glued a word to the next one (`\nAKIA…` has
// no word boundary before the key). A run before any other byte (`\\d`, `C:\\Users`) is kept
// as written. A `\uXXXX` of a character that renders as nothing (text_fold.hpp) decodes to
// nothing: written out it is in plain sight, so it is no hidden text, and it no longer splits a
// key. Same contract as unescape_json otherwise: a run the text ends in, or inside a
// `\u` escape, is not consumed unless `final`.
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

// True when unescape_text would decode an escape in `text` (a backslash run before an escape
// letter or a \u escape): the only texts worth a second, decoded scan.
bool holds_text_escape(std::string_view text);

}  // namespace edgeward::rules
