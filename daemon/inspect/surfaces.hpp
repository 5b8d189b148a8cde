#pragma once
// Surfaces and layers (DESIGN §2): the texts of one request or buffered response, extracted from
// its JSON body (simdjson On-Demand) with the byte span each came from so that `redact` can
// rewrite exactly those bytes.
//
// Rules:
//  - Every string that reaches the provider is extracted somewhere: the dialect's known fields
//    into their layers, every other field's string values as pre-template body text. Binary
//    payloads (image/audio/file parts, Ollama `images`) are skipped: they are not text.
//  - Object keys are compared unescaped and every occurrence of a repeated key is extracted, so
//    `{"messages":[…],"messages":[…]}` or `"mess\u0061ges"` cannot hide a message from us while
//    the provider's parser sees it.
//  - A known dialect whose body is not valid JSON (or not the expected shape at the top) is
//    extracted as one raw piece that every rule covering the body sees (`raw`), never skipped.
//  - Spans are byte offsets into the body given to extract_*; a kJsonString span covers the
//    string literal including its quotes, a kJsonValue span a whole object/array.
//  - Texts are not copied where the body already holds them: a JSON string without escapes,
//    a raw JSON value and the raw fallback are views into the body given to extract_*, so an
//    ExtractedBody is valid only while that body is. Unescaped strings are held by their piece.
//  - A body with kJsonPadding readable bytes after its end (`padding`, the caller's buffer
//    capacity) is parsed where it is; any other body is first copied into a padded per-thread
//    buffer (simdjson reads past the end of its input).
//  - Pure functions; the simdjson parser is per thread. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/http_message.hpp"
#include "daemon/inspect/dialect.hpp"
#include "rules/json_escapes.hpp"
#include "store/event.hpp"

namespace edgeward::inspect {

using store::Layer;
using store::MatchedIn;

// What the span of a piece points at in the original body.
enum class SpanKind : std::uint8_t {
  kNone,        // not rewritable in place (raw body, headers, url, the joined conversation)
  kJsonString,  // a JSON string literal, quotes included: rewritten as a re-escaped string
  kJsonValue,   // a whole JSON object/array (tool schema, Anthropic tool_use input): the text
                // scanned is its raw JSON; a `redact` here cannot keep it valid, so it blocks
};

// Bytes past the end of a body that simdjson may read (simdjson::SIMDJSON_PADDING; checked in
// surfaces.cpp). A caller whose buffer has that much capacity after the body says so to
// extract_* and the body is parsed in place.
inline constexpr std::size_t kJsonPadding = 64;

struct TextPiece {
  MatchedIn matched_in = MatchedIn::kBody;
  Layer layer = Layer::kPreTemplate;
  // True for the raw-bytes fallback: every rule covering `body` sees it, whatever its layers.
  bool raw = false;
  SpanKind span_kind = SpanKind::kNone;
  std::size_t span_begin = 0;  // byte offsets into the original body
  std::size_t span_end = 0;
  // A piece read once more with its escapes decoded (tool-call JSON; a text holding escapes
  // written out): the index of the piece it decodes, whose own findings it repeats where no
  // escape stood in the match, and how it read them (rules/json_escapes.hpp).
  static constexpr std::size_t kNotDecoded = static_cast<std::size_t>(-1);
  std::size_t decoded_from = kNotDecoded;
  rules::EscapeReading decoded_as = rules::EscapeReading::kJson;
  // A string whose value is JSON text (tool-call arguments): the tool parses it, so a redaction
  // there must leave it parsing (exchange.cpp blocks instead when it would not).
  bool json_text = false;
  // The text scanned: unescaped string value, raw JSON, or raw bytes. Either a view into the
  // text the piece was extracted from (see the Rules) or into the piece's own copy (own()).
  std::string_view text;

  TextPiece() = default;
  TextPiece(const TextPiece& other) { *this = other; }
  TextPiece(TextPiece&& other) noexcept { *this = std::move(other); }
  TextPiece& operator=(const TextPiece& other);
  TextPiece& operator=(TextPiece&& other) noexcept;

  // Makes the piece hold `s` itself (an unescaped string, a decoded URL).
  void own(std::string s) {
    owned_ = std::move(s);
    text = owned_;
  }
  bool owns_text() const { return text.data() == owned_.data(); }

 private:
  // Copies the fields of `other` and takes `owned` (its owned text, copied or moved).
  void assign_from(const TextPiece& other, std::string&& owned);

  std::string owned_;
};

// Where a piece sits inside the joined conversation (post-template layer).
struct ConversationSegment {
  std::size_t piece = 0;   // index into pieces
  std::size_t offset = 0;  // byte offset of the piece's text inside `conversation`
};

struct ExtractedBody {
  Route route;
  // False when the body was not JSON of the dialect's shape: `pieces` holds one raw piece.
  bool parsed = false;
  std::string model;  // "" when absent
  // The piece holding the request's `model` string (scanned like any text: a key pasted there
  // is found), or none.
  std::optional<std::size_t> model_piece;
  std::optional<std::uint64_t> max_tokens;  // max_tokens / max_completion_tokens /
                                            // max_output_tokens / options.num_predict
  std::vector<std::string> tools_defined;   // tool names declared by the request (`tools[]`)
  std::vector<std::string> tools_called;    // tool names in tool calls (assistant turns, or
                                            // the model's calls in a response)
  std::vector<TextPiece> pieces;
  // Post-template layer: "system: …\nuser: …\n", every message text in order with its role;
  // empty for generic bodies and bodies without messages.
  std::string conversation;
  std::vector<ConversationSegment> segments;
  // Runs of consecutive text parts of one message (OpenAI content parts, Anthropic text blocks)
  // glued together, one run per line. The model reads a message's parts as one text, so a
  // value split across two of them ("DE89 3704" + " 0044 0532 0130 00") is found here;
  // exchange.cpp keeps only the findings that cross from one part into the next (the
  // conversation, where each part is a line of its own, finds the rest: glued, "key AKIA…" +
  // "summarize" would hide the key's end). Empty when no message has two text parts.
  std::string glued;
  std::vector<ConversationSegment> glued_segments;
};

// Request body of `route` (DESIGN §2 surfaces `body` and `tools`). `padding`: readable bytes
// after the end of `body` (at least kJsonPadding: parsed in place; else copied first).
ExtractedBody extract_request(Route route, std::string_view body, std::size_t padding = 0);

// Buffered (non-streamed) JSON response body of `route`: the model's text and tool calls.
ExtractedBody extract_response(Route route, std::string_view body, std::size_t padding = 0);

// The same into `out`, whose buffers (pieces, conversation, segments) keep their capacity from
// one body to the next: a worker that extracts every request into one ExtractedBody allocates
// nothing for it in the steady state. `out` is overwritten whole.
void extract_request(Route route, std::string_view body, std::size_t padding, ExtractedBody& out);
void extract_response(Route route, std::string_view body, std::size_t padding, ExtractedBody& out);

// Empties `b` for reuse, keeping its buffers unless they grew past `keep_bytes` (a worker keeps
// one, so a rare huge body must not pin its memory for good).
void clear_for_reuse(ExtractedBody& b, std::size_t keep_bytes = 256u << 10);

// Surface `url`: the request target (path and query), percent-decoded. One piece; a view into
// `target` when nothing needed decoding.
TextPiece extract_url(std::string_view target);

// Surface `headers`: one piece per header value (views into `headers`), except the credential
// headers that are never scanned into events (Authorization, Proxy-Authorization, Cookie,
// Set-Cookie and the provider API key headers x-api-key, api-key, x-goog-api-key).
std::vector<TextPiece> extract_headers(const http::Headers& headers);

// Length of the JSON string literal that starts `token` (quotes included). `token` is the
// raw_json_token() of a string value simdjson has validated: the literal and only the
// whitespace up to the next token, so the length is found from its end without reading the
// string. A token without a closing quote counts whole.
std::size_t json_string_literal_length(std::string_view token);

// True for a header whose value is a credential (see extract_headers).
bool is_credential_header(std::string_view name);

// True when `body` is exactly one JSON value (whitespace around it allowed).
bool is_one_json_document(std::string_view body);

}  // namespace edgeward::inspect
