#pragma once
// JSON string escapes decoded with the origin of every decoded byte: for JSON text that the
// rules read decoded (a tool call's arguments, streamed or whole), whose findings must be
// placed back on the text as it was written.

#include <cstddef>
#include <string_view>

#include "rules/text_fold.hpp"

namespace edgeward::inspect {

// `text` with every JSON escape decoded wherever it stands (inside a string or not: JSON text
// has backslashes only there), as the tool that parses it reads it, into `out`, each output
// byte with the span [begin, end) of `text` it came from (rules::FoldedText's layout: an escape
// spans its whole sequence). A surrogate pair becomes its code point, a lone surrogate U+FFFD;
// a malformed escape is kept as it is (as decode_json_escapes in surfaces.hpp). Unless `final`,
// it stops before an escape the text ends inside (`\`, `\u00`, a high surrogate whose low
// half may follow) and returns the bytes consumed; with `final` it consumes everything.
std::size_t unescape_json(std::string_view text, bool final, rules::FoldedText& out);

}  // namespace edgeward::inspect
