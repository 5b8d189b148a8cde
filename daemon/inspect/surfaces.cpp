#include "daemon/inspect/surfaces.hpp"

#include <simdjson.h>

#include <cstring>

#include "core/hex.hpp"
#include "daemon/inspect/json_scalar.hpp"
#include "rules/json_escapes.hpp"

namespace edgeward::inspect {

namespace sj = simdjson::ondemand;

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);

TextPiece& TextPiece::operator=(const TextPiece& other) {
  if (this != &other) assign_from(other, std::string(other.owned_));
  return *this;
}

TextPiece& TextPiece::operator=(TextPiece&& other) noexcept {
  if (this != &other) {
    assign_from(other, std::move(other.owned_));
    other.text = {};
  }
  return *this;
}

void TextPiece::assign_from(const TextPiece& other, std::string&& owned) {
  const bool view_of_owned = other.owns_text();  // asked before `owned` is moved from
  matched_in = other.matched_in;
  layer = other.layer;
  raw = other.raw;
  span_kind = other.span_kind;
  span_begin = other.span_begin;
  span_end = other.span_end;
  decoded_from = other.decoded_from;
  decoded_as = other.decoded_as;
  json_text = other.json_text;
  // A short owned string moves by copying its bytes (SSO): the view must follow the bytes.
  owned_ = std::move(owned);
  text = view_of_owned ? std::string_view(owned_) : other.text;
}

namespace {

// The role given to texts that are not inside a message ("prompt", "input", "system").
struct Turn {
  std::string role;
  std::size_t first = 0;  // piece range of the turn
  std::size_t last = 0;
  bool leading = false;  // a top-level system/instructions field: the template puts it first
  // The pieces are the parts of one message the model reads as one text (content parts, text
  // blocks), not a batch of separate inputs (completions prompts, embedding inputs).
  bool parts = false;
};

// Nesting the walker follows. Deeper bodies are not a dialect's shape (a request nests messages,
// parts, blocks and schemas a few dozen levels at most) and would exhaust the worker's stack:
// the walk fails and the body is scanned as raw bytes (raw_fallback).
constexpr int kMaxJsonDepth = 128;

bool is_tool_role(std::string_view role) {
  return role == "tool" || role == "function" || role == "ipython";
}

// Fields whose values are binary payloads (base64 images, audio, files) or opaque ids: not
// text, skipped without extraction.
bool is_binary_field(std::string_view key) {
  return key == "images" || key == "image_url" || key == "input_audio" || key == "image" ||
         key == "audio" || key == "file" || key == "file_data" || key == "image_data";
}

// Request parameters of the dialects whose names are fixed words: noting them as keys would
// only cost every request a scan of "stream\ntemperature\n".
bool is_known_parameter(std::string_view key) {
  static constexpr std::string_view kKnown[] = {"stream",
                                                "temperature",
                                                "top_p",
                                                "top_k",
                                                "n",
                                                "seed",
                                                "stop",
                                                "stop_sequences",
                                                "user",
                                                "stream_options",
                                                "presence_penalty",
                                                "frequency_penalty",
                                                "logprobs",
                                                "top_logprobs",
                                                "logit_bias",
                                                "tool_choice",
                                                "parallel_tool_calls",
                                                "response_format",
                                                "metadata",
                                                "store",
                                                "modalities",
                                                "reasoning_effort",
                                                "reasoning",
                                                "service_tier",
                                                "thinking",
                                                "keep_alive",
                                                "format",
                                                "raw",
                                                "think",
                                                "truncate",
                                                "dimensions",
                                                "encoding_format",
                                                "previous_response_id",
                                                "include",
                                                "text",
                                                "background",
                                                "echo",
                                                "best_of",
                                                "audio",
                                                "prediction",
                                                "web_search_options",
                                                "container",
                                                "mcp_servers",
                                                "context",
                                                "prompt_cache_key",
                                                "safety_identifier",
                                                "verbosity",
                                                "truncation",
                                                "max_tool_calls"};
  for (std::string_view k : kKnown) {
    if (key == k) return true;
  }
  return false;
}

bool is_id_field(std::string_view key) {
  return key == "id" || key == "tool_call_id" || key == "tool_use_id" || key == "call_id" ||
         key == "signature" || key == "cache_control" || key == "type" || key == "role" ||
         key == "index" || key == "is_error" || key == "status";
}

// Calls fn(key, value) for each field of the object `v` (keys unescaped, so an escaped
// spelling cannot hide a known field); false when `v` is not a valid object or fn says false.
template <class Fn>
bool for_each_field(sj::value& v, Fn&& fn) {
  sj::object o;
  if (v.get_object().get(o)) return false;
  for (auto f : o) {
    sj::field field;
    std::string_view key;
    if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
    if (!fn(key, field.value())) return false;
  }
  return true;
}

// Calls fn(item) for each element of the array `v`; false when `v` is not a valid array or fn
// says false.
template <class Fn>
bool for_each_item(sj::value& v, Fn&& fn) {
  sj::array a;
  if (v.get_array().get(a)) return false;
  for (auto e : a) {
    sj::value item;
    if (e.get(item) || !fn(item)) return false;
  }
  return true;
}

// Extraction state over one parsed document. Every member function returns false when the
// document turns out to be malformed (the caller then falls back to raw bytes).
class Walker {
 public:
  // `base`: the bytes simdjson parses (the body itself, or its padded copy); `body`: the
  // caller's body, which the pieces' views point into (same bytes, same offsets).
  // `conversational` and `turns`: the thread's bookkeeping buffers, emptied here and reused so
  // that a body costs no allocation for them.
  Walker(const char* base, std::string_view body, ExtractedBody& out,
         std::vector<bool>& conversational, std::vector<Turn>& turns)
      : base_(base), body_(body), out_(out), conversational_(conversational), turns_(turns) {
    conversational_.clear();
    turns_.clear();
  }

  // ---- leaves -------------------------------------------------------------------------------

  // Reads the string value `v`. Without a backslash in its literal the text is the literal's
  // inside, a view into the body: nothing to unescape or copy (stage 1 has already validated
  // its UTF-8 and refused unescaped control characters). Otherwise simdjson unescapes it
  // (validating the escapes) into the parser's buffer, valid until the next parse: `escaped`
  // tells the caller to copy it. [begin, end) is the literal, quotes included.
  bool read_string(sj::value& v, std::string_view& text, bool& escaped, std::size_t& begin,
                   std::size_t& end) {
    std::string_view token = v.raw_json_token();
    begin = static_cast<std::size_t>(token.data() - base_);
    const std::size_t length = json_string_literal_length(token);
    end = begin + length;
    if (length >= 2 && token.front() == '"' &&
        std::memchr(token.data() + 1, '\\', length - 2) == nullptr) {
      sj::raw_json_string raw;
      if (v.get_raw_json_string().get(raw)) return false;
      text = body_.substr(begin + 1, length - 2);
      escaped = false;
      return true;
    }
    if (v.get_string().get(text)) return false;
    escaped = true;
    return true;
  }

  // A JSON string value as a piece. `conversational` puts it into the post-template join.
  // `reading` says what its text is: JSON text a tool parses (tool-call arguments), read decoded
  // too when it holds a backslash, or free text, read decoded too when it holds an escape
  // written out (`\n` in a tool result that is JSON, in a log pasted into a prompt): the model
  // reads a line break there, while to the rules the `n` glues a word to the next one.
  bool string_piece(sj::value& v, MatchedIn in, Layer layer, bool conversational,
                    rules::EscapeReading reading = rules::EscapeReading::kText) {
    std::string_view text;
    bool escaped = false;
    std::size_t begin = 0;
    std::size_t end = 0;
    if (!read_string(v, text, escaped, begin, end)) return false;
    const std::size_t i = out_.pieces.size();
    TextPiece& p = add_piece(in, layer, SpanKind::kJsonString, begin, end, conversational);
    if (escaped) {
      p.own(std::string(text));
    } else {
      p.text = text;
    }
    p.json_text = reading == rules::EscapeReading::kJson;
    // Without an escape in its literal the text holds no backslash: nothing to decode.
    if (escaped &&
        (reading == rules::EscapeReading::kJson ? p.text.find('\\') != std::string_view::npos
                                                : rules::holds_text_escape(p.text))) {
      add_decoded(i, reading);
    }
    return true;
  }

  // JSON text kept as a value (an object/array's raw JSON: schemas, tool_use input, Ollama
  // arguments), or a string holding JSON text (OpenAI tool-call arguments). Both are scanned as
  // they are, and when they hold an escape, decoded too: `"…\nAKIA…"` glues the `n` to a key at
  // the start of a line (every serializer writes it), `\/` hides a URL, `\u0041KIA` a key, and
  // the provider, the SDKs and the tool all read the decoded text.
  bool raw_value_piece(sj::value& v, MatchedIn in, Layer layer, bool conversational) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    std::string_view raw;
    if (t == sj::json_type::object || t == sj::json_type::array) {
      if (!container_raw_json(v, t, raw)) return false;
    } else if (t == sj::json_type::string) {
      return string_piece(v, in, layer, conversational, rules::EscapeReading::kJson);
    } else {
      return skip_scalar(v, t);
    }
    std::size_t begin = static_cast<std::size_t>(raw.data() - base_);
    // raw_json() of a container ends at its closing bracket (no trailing whitespace).
    add_piece(in, layer, SpanKind::kJsonValue, begin, begin + raw.size(), conversational).text =
        body_.substr(begin, raw.size());
    if (raw.find('\\') != std::string_view::npos) {
      add_decoded(out_.pieces.size() - 1, rules::EscapeReading::kJson);
    }
    return true;
  }

  // A second piece of piece `i`'s text with its escapes decoded as `reading` says. It cannot be
  // rewritten in place (a redact found only there blocks; one its source piece holds too is
  // that piece's, exchange.cpp) and stays out of the conversation join (its piece is there
  // already).
  void add_decoded(std::size_t i, rules::EscapeReading reading) {
    // exchange.cpp places this piece's findings back on piece `i` with the mapped decoder.
    std::string decoded;
    rules::decode_escapes(reading, out_.pieces[i].text, decoded);
    const MatchedIn in = out_.pieces[i].matched_in;
    const Layer layer = out_.pieces[i].layer;
    const std::size_t begin = out_.pieces[i].span_begin;
    const std::size_t end = out_.pieces[i].span_end;
    TextPiece& d = add_piece(in, layer, SpanKind::kNone, begin, end, false);
    d.own(std::move(decoded));
    d.decoded_from = i;
    d.decoded_as = reading;
  }

  bool skip_scalar(sj::value& v, sj::json_type t) { return consume_json_scalar(v, t); }

  // Every string value below `v` (keys excluded) as pieces; validates every scalar.
  bool walk_generic(sj::value& v, MatchedIn in, Layer layer) {
    Nested nested(depth_);
    if (nested.too_deep()) return false;
    sj::json_type t;
    if (v.type().get(t)) return false;
    switch (t) {
      case sj::json_type::string:
        return string_piece(v, in, layer, false);
      case sj::json_type::object: {
        return for_each_field(v, [&](std::string_view key, sj::value& val) {
          note_key(key);
          return walk_generic(val, in, layer);
        });
      }
      case sj::json_type::array: {
        sj::array a;
        if (v.get_array().get(a)) return false;
        for (auto e : a) {
          sj::value item;
          if (e.get(item) || !walk_generic(item, in, layer)) return false;
        }
        return true;
      }
      default:
        return skip_scalar(v, t);
    }
  }

  // A binary field's value (image_url, file, audio, …): its base64 or `data:` payload is not
  // text, but a URL the provider fetches is (a secret in its query reaches a third party, and
  // `egress_domains` must see its host), and so is a file name. Strings that are URLs (http://,
  // https://) and the `url` / `file_url` / `image_url` / `filename` strings of an object that
  // are not `data:` URIs become pieces; so do the object's other strings and unknown names
  // (`detail`, …). Payloads and opaque ids are skipped.
  bool binary_field(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::string) return url_piece(v, false);
    if (t != sj::json_type::object) return skip_value(v);
    return for_each_field(v, [&](std::string_view key, sj::value& val) {
      sj::json_type vt;
      if (val.type().get(vt)) return false;
      const bool named =
          key == "url" || key == "file_url" || key == "image_url" || key == "filename";
      if (named && vt == sj::json_type::string) return url_piece(val, key == "filename");
      if (key == "transcript" && vt == sj::json_type::string) {  // audio output's text
        return string_piece(val, MatchedIn::kBody, Layer::kPreTemplate, true);
      }
      // The payloads themselves (base64 or raw bytes) and opaque ids: not text.
      if (key == "data" || key == "file_data" || key == "image_data" || key == "b64_json" ||
          key == "id" || key == "file_id" || key == "expires_at") {
        return skip_value(val);
      }
      // Anything else beside them (detail, format, a field nobody documents) reaches the
      // provider as it is: its name and its strings are text.
      if (key != "detail" && key != "format" && key != "mime_type" && key != "media_type") {
        note_key(key);
      }
      return walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate);
    });
  }

  // A string piece unless it is a payload: `data:` URIs always are; with `any_text` false,
  // so is everything but an http(s) URL (raw base64 has no scheme).
  bool url_piece(sj::value& v, bool any_text) {
    // Judged on the decoded text: "https:\/\/…" (PHP's json_encode) or "\u0068ttps://…" is
    // the same URL to the provider.
    std::string_view text;
    bool escaped = false;
    std::size_t begin = 0;
    std::size_t end = 0;
    if (!read_string(v, text, escaped, begin, end)) return false;
    const std::string_view head = text.substr(0, 8);
    const bool data_uri = head.size() >= 5 && http::iequals(head.substr(0, 5), "data:");
    const bool url = (head.size() >= 7 && http::iequals(head.substr(0, 7), "http://")) ||
                     (head.size() >= 8 && http::iequals(head.substr(0, 8), "https://"));
    if (data_uri || !(any_text || url)) return true;
    const std::size_t i = out_.pieces.size();
    TextPiece& p =
        add_piece(MatchedIn::kBody, Layer::kPreTemplate, SpanKind::kJsonString, begin, end, false);
    if (escaped) {
      p.own(std::string(text));
    } else {
      p.text = text;
    }
    if (escaped && rules::holds_text_escape(p.text)) add_decoded(i, rules::EscapeReading::kText);
    return true;
  }

  // A field name to scan: one the walker does not know, or any key the generic walk sees
  // (metadata, schemas): a provider stores or shows them, so they are text too. Joined into one
  // piece at the end (keys_piece), one scan for all of them.
  void note_key(std::string_view key) {
    if (key.empty()) return;
    keys_.append(key);
    keys_.push_back('\n');
  }

  // The keys noted by the walk, as one piece of its own (not rewritable: a redact finding in it
  // blocks, docs/dialects.md).
  void keys_piece() {
    if (keys_.empty()) return;
    TextPiece& p = out_.pieces.emplace_back();
    p.matched_in = MatchedIn::kBody;
    p.layer = Layer::kPreTemplate;
    p.own(std::move(keys_));
    keys_.clear();
    if (rules::holds_text_escape(p.text)) {
      add_decoded(out_.pieces.size() - 1, rules::EscapeReading::kText);
    }
  }

  // Skips a value we deliberately do not extract (binary payloads), validating its structure.
  bool skip_value(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::string) {
      std::string_view s;
      bool escaped = false;
      std::size_t begin = 0;
      std::size_t end = 0;
      return read_string(v, s, escaped, begin, end);
    }
    if (t == sj::json_type::object) {
      sj::object o;
      std::string_view raw;
      return !v.get_object().get(o) && !o.raw_json().get(raw);
    }
    if (t == sj::json_type::array) {
      sj::array a;
      std::string_view raw;
      return !v.get_array().get(a) && !a.raw_json().get(raw);
    }
    return skip_scalar(v, t);
  }

  bool get_text(sj::value& v, std::string& out, std::size_t limit) {
    std::string_view s;
    if (v.get_string().get(s)) return false;
    out.assign(s.substr(0, limit));
    return true;
  }

  bool get_uint(sj::value& v, std::optional<std::uint64_t>& out) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::null) return skip_scalar(v, t);
    if (t != sj::json_type::number) return walk_generic(v, MatchedIn::kBody, Layer::kPreTemplate);
    double d = 0;
    if (v.get_double().get(d)) return false;
    // Negative or fractional limits are the provider's to refuse; we keep the largest sane view.
    if (d < 0) d = 0;
    out = d >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(d);
    return true;
  }

  // ---- messages and blocks ------------------------------------------------------------------

  // A message, content part, Anthropic block or Responses item: every dialect's text-bearing
  // object goes through here. Layers are fixed once the whole object has been read, because
  // `role` and `type` may come after the texts they qualify.
  bool message_like(sj::value& v, std::string& role_inout, bool top_level) {
    Nested nested(depth_);
    if (nested.too_deep()) return false;
    sj::object o;
    if (v.get_object().get(o)) return false;
    std::size_t first = out_.pieces.size();
    std::string role = role_inout;
    std::string type;
    std::string name;
    bool has_role = false;
    for (auto f : o) {
      sj::field field;
      std::string_view key;
      if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
      sj::value val = field.value();
      if (key == "role") {
        if (!get_text(val, role, 32)) return false;
        has_role = true;
      } else if (key == "type") {
        if (!get_text(val, type, 64)) return false;
      } else if (key == "name") {
        sj::json_type t;
        if (val.type().get(t)) return false;
        if (t == sj::json_type::string) {
          std::size_t before = out_.pieces.size();
          if (!string_piece(val, MatchedIn::kBody, Layer::kPreTemplate, false)) return false;
          name.assign(out_.pieces[before].text);
        } else if (!walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate)) {
          return false;
        }
      } else if (key == "content" || key == "output" || key == "tool_result_content") {
        if (!content(val, role)) return false;
      } else if (key == "text" || key == "refusal" || key == "thinking") {
        if (!text_or_generic(val, Layer::kPreTemplate, true)) return false;
      } else if (key == "arguments" || key == "input") {
        if (!raw_value_piece(val, MatchedIn::kTools, Layer::kToolCall, true)) return false;
      } else if (key == "tool_calls") {
        if (!tool_calls(val)) return false;
      } else if (key == "function_call" || key == "function") {
        if (!call_object(val)) return false;
      } else if (key == "source") {
        if (!document_source(val)) return false;
      } else if (is_binary_field(key)) {
        if (!binary_field(val)) return false;
      } else if (is_id_field(key)) {
        if (!skip_value(val)) return false;
      } else {
        note_key(key);  // an unknown field's name reaches the provider too
        if (!walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate)) return false;
      }
    }
    std::size_t last = out_.pieces.size();
    bool tool_result = is_tool_role(role) || type == "tool_result" ||
                       type == "function_call_output" || type == "mcp_tool_result";
    bool tool_call = type == "tool_use" || type == "function_call" || type == "server_tool_use" ||
                     type == "mcp_tool_use";
    if (tool_call && !name.empty()) out_.tools_called.push_back(name);
    if (tool_result || tool_call) retag(first, last, MatchedIn::kTools, Layer::kToolCall);
    if (has_role) role_inout = role;
    if (top_level) {
      turns_.push_back(Turn{role.empty() ? std::string("user") : role, first, last, false, true});
    }
    return true;
  }

  // `content`: a string, or an array of parts/blocks, or null.
  bool content(sj::value& v, std::string& role) {
    Nested nested(depth_);
    if (nested.too_deep()) return false;
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::string)
      return string_piece(v, MatchedIn::kBody, Layer::kPreTemplate, true);
    if (t == sj::json_type::array) {
      return for_each_item(v, [&](sj::value& item) {
        sj::json_type it;
        if (item.type().get(it)) return false;
        if (it == sj::json_type::object) {
          std::string inner = role;
          if (!message_like(item, inner, false)) return false;
        } else if (it == sj::json_type::string) {
          if (!string_piece(item, MatchedIn::kBody, Layer::kPreTemplate, true)) return false;
        } else if (!walk_generic(item, MatchedIn::kBody, Layer::kPreTemplate)) {
          return false;
        }
        return true;
      });
    }
    if (t == sj::json_type::object) {
      std::string inner = role;
      return message_like(v, inner, false);
    }
    return skip_scalar(v, t);
  }

  bool text_or_generic(sj::value& v, Layer layer, bool conversational) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::string) return string_piece(v, MatchedIn::kBody, layer, conversational);
    return walk_generic(v, MatchedIn::kBody, layer);
  }

  // OpenAI / Ollama `tool_calls`: [{id, type, function: {name, arguments}}].
  bool tool_calls(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::array) return walk_generic(v, MatchedIn::kTools, Layer::kToolCall);
    return for_each_item(v, [&](sj::value& item) {
      sj::json_type it;
      if (item.type().get(it)) return false;
      if (it != sj::json_type::object) {
        if (!walk_generic(item, MatchedIn::kTools, Layer::kToolCall)) return false;
        return true;
      }
      return for_each_field(item, [&](std::string_view key, sj::value& val) {
        if (key == "function") {
          if (!call_object(val)) return false;
        } else if (key == "id" || key == "type" || key == "index") {
          if (!skip_value(val)) return false;
        } else {
          note_key(key);
          if (!walk_generic(val, MatchedIn::kTools, Layer::kToolCall)) return false;
        }
        return true;
      });
    });
  }

  // {name, arguments}: a call of a tool; arguments are a JSON string (OpenAI) or an object
  // (Ollama), both scanned as text in the tool-call layer.
  bool call_object(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::object) return walk_generic(v, MatchedIn::kTools, Layer::kToolCall);
    return for_each_field(v, [&](std::string_view key, sj::value& val) {
      if (key == "name") {
        sj::json_type nt;
        if (val.type().get(nt)) return false;
        if (nt == sj::json_type::string) {
          std::string_view s;
          if (val.get_string().get(s)) return false;
          out_.tools_called.emplace_back(s);
        } else if (!walk_generic(val, MatchedIn::kTools, Layer::kToolCall)) {
          return false;
        }
      } else if (key == "arguments") {
        if (!raw_value_piece(val, MatchedIn::kTools, Layer::kToolCall, true)) return false;
      } else {
        note_key(key);
        if (!walk_generic(val, MatchedIn::kTools, Layer::kToolCall)) return false;
      }
      return true;
    });
  }

  // Anthropic `source` of an image/document block: base64 `data` is skipped unless the source
  // says it is plain text.
  bool document_source(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::object) return skip_value(v);
    sj::object o;
    if (v.get_object().get(o)) return false;
    std::string type;
    std::optional<TextPiece> data;
    for (auto f : o) {
      sj::field field;
      std::string_view key;
      if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
      sj::value val = field.value();
      if (key == "type") {
        if (!get_text(val, type, 32)) return false;
      } else if (key == "data") {
        sj::json_type dt;
        if (val.type().get(dt)) return false;
        if (dt != sj::json_type::string) {
          if (!skip_value(val)) return false;
          continue;
        }
        std::size_t before = out_.pieces.size();
        if (!string_piece(val, MatchedIn::kBody, Layer::kPreTemplate, true)) return false;
        data = std::move(out_.pieces[before]);
        out_.pieces.pop_back();
        conversational_.pop_back();
      } else if (key == "media_type" || key == "url" || key == "file_id") {
        if (!walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate)) return false;
      } else if (key == "content") {
        // A "content" source: blocks the model reads like a message's.
        std::string role = "user";
        if (!content(val, role)) return false;
      } else {
        note_key(key);  // an unknown member of a source is text to the provider too
        if (!walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate)) return false;
      }
    }
    if (data && (type == "text" || type == "content")) {
      out_.pieces.push_back(std::move(*data));
      conversational_.push_back(true);
    }
    return true;
  }

  // `tools[]` / `functions[]`: definitions. Names, descriptions and schemas, tool-call layer.
  bool tool_definitions(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::array) return walk_generic(v, MatchedIn::kTools, Layer::kToolCall);
    sj::array a;
    if (v.get_array().get(a)) return false;
    for (auto e : a) {
      sj::value item;
      if (e.get(item) || !tool_definition(item)) return false;
    }
    return true;
  }

  bool tool_definition(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::object) return walk_generic(v, MatchedIn::kTools, Layer::kToolCall);
    return for_each_field(v, [&](std::string_view key, sj::value& val) {
      if (key == "function") {
        if (!tool_definition(val)) return false;
      } else if (key == "name") {
        sj::json_type nt;
        if (val.type().get(nt)) return false;
        if (nt == sj::json_type::string) {
          std::size_t before = out_.pieces.size();
          if (!string_piece(val, MatchedIn::kTools, Layer::kToolCall, false)) return false;
          out_.tools_defined.emplace_back(out_.pieces[before].text);
        } else if (!walk_generic(val, MatchedIn::kTools, Layer::kToolCall)) {
          return false;
        }
      } else if (key == "parameters" || key == "input_schema" || key == "schema") {
        if (!raw_value_piece(val, MatchedIn::kTools, Layer::kToolCall, false)) return false;
      } else if (key == "type") {
        if (!skip_value(val)) return false;
      } else {
        // A definition's own words (description, strict, …) are fixed; another name is text.
        if (key != "description" && key != "strict" && key != "cache_control") note_key(key);
        if (!walk_generic(val, MatchedIn::kTools, Layer::kToolCall)) return false;
      }
      return true;
    });
  }

  // A top-level text field (completions `prompt`, Anthropic `system`, Responses `input`…): a
  // string, an array of strings/blocks, or anything else (walked generically). `parts`: an
  // array holds the blocks of one text (Anthropic `system`), not separate inputs.
  bool top_text(sj::value& v, std::string_view role, bool leading, bool parts = false) {
    std::size_t first = out_.pieces.size();
    std::string r(role);
    if (!content(v, r)) return false;
    turns_.push_back(Turn{std::string(role), first, out_.pieces.size(), leading, parts});
    return true;
  }

  // Responses `input`: a string (one user turn) or an array of items, each a message or a
  // function_call / function_call_output item.
  bool responses_input(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::array) return top_text(v, "user", false);
    return messages(v);
  }

  bool messages(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::array) return walk_generic(v, MatchedIn::kBody, Layer::kPreTemplate);
    return for_each_item(v, [&](sj::value& item) {
      sj::json_type it;
      if (item.type().get(it)) return false;
      if (it == sj::json_type::object) {
        std::string role;
        if (!message_like(item, role, true)) return false;
      } else if (it == sj::json_type::string) {
        std::size_t first = out_.pieces.size();
        if (!string_piece(item, MatchedIn::kBody, Layer::kPreTemplate, true)) return false;
        turns_.push_back(Turn{"user", first, out_.pieces.size(), false});
      } else if (!walk_generic(item, MatchedIn::kBody, Layer::kPreTemplate)) {
        return false;
      }
      return true;
    });
  }

  // Ollama `options`: num_predict is the token limit; the rest are sampling numbers.
  bool ollama_options(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t != sj::json_type::object) return walk_generic(v, MatchedIn::kBody, Layer::kPreTemplate);
    return for_each_field(v, [&](std::string_view key, sj::value& val) {
      if (key == "num_predict") {
        if (!get_uint(val, out_.max_tokens)) return false;
      } else if (!walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate)) {
        return false;
      }
      return true;
    });
  }

  // ---- bookkeeping --------------------------------------------------------------------------

  // A new piece without its text (the caller sets it).
  TextPiece& add_piece(MatchedIn in, Layer layer, SpanKind kind, std::size_t begin, std::size_t end,
                       bool conversational) {
    TextPiece& p = out_.pieces.emplace_back();
    p.matched_in = in;
    p.layer = layer;
    p.span_kind = kind;
    p.span_begin = begin;
    p.span_end = end;
    conversational_.push_back(conversational);
    return p;
  }

  void retag(std::size_t first, std::size_t last, MatchedIn in, Layer layer) {
    for (std::size_t i = first; i < last; ++i) {
      out_.pieces[i].matched_in = in;
      out_.pieces[i].layer = layer;
    }
  }

  // Joins the turns into the post-template conversation, leading (system) turns first, and
  // (`glue`) the parts of each message into out_.glued.
  void build_conversation(bool glue) {
    // One allocation: the join is as long as the texts plus a role and two separators each.
    std::size_t size = 0;
    for (const Turn& t : turns_) {
      for (std::size_t i = t.first; i < t.last && i < out_.pieces.size(); ++i) {
        if (conversational_[i]) size += t.role.size() + 3 + out_.pieces[i].text.size();
      }
    }
    out_.conversation.reserve(size);
    auto append_turn = [&](const Turn& turn) {
      for (std::size_t i = turn.first; i < turn.last && i < out_.pieces.size(); ++i) {
        if (!conversational_[i]) continue;
        out_.conversation.append(turn.role);
        out_.conversation.append(": ");
        out_.segments.push_back(ConversationSegment{i, out_.conversation.size()});
        out_.conversation.append(out_.pieces[i].text);
        out_.conversation.push_back('\n');
      }
    };
    for (const Turn& t : turns_) {
      if (t.leading) append_turn(t);
    }
    for (const Turn& t : turns_) {
      if (!t.leading) append_turn(t);
    }
    if (!glue) return;
    for (const Turn& t : turns_) {
      if (t.parts) glue_parts(t);
    }
  }

  // Appends each run of two or more consecutive text parts of `turn` to out_.glued.
  void glue_parts(const Turn& turn) {
    auto text_part = [&](std::size_t i) {
      const TextPiece& p = out_.pieces[i];
      return conversational_[i] && !p.raw && p.matched_in == MatchedIn::kBody &&
             p.layer == Layer::kPreTemplate && p.span_kind == SpanKind::kJsonString;
    };
    const std::size_t last = std::min(turn.last, out_.pieces.size());
    std::size_t i = turn.first;
    while (i < last) {
      if (!text_part(i)) {
        ++i;
        continue;
      }
      std::size_t end = i + 1;
      while (end < last && (text_part(end) || !conversational_[end])) ++end;
      std::size_t parts = 0;
      for (std::size_t k = i; k < end; ++k) parts += text_part(k);
      if (parts >= 2) {
        for (std::size_t k = i; k < end; ++k) {
          if (!text_part(k)) continue;
          out_.glued_segments.push_back(ConversationSegment{k, out_.glued.size()});
          out_.glued.append(out_.pieces[k].text);
        }
        out_.glued.push_back('\n');
      }
      i = end;
    }
  }

  std::vector<Turn>& turns() { return turns_; }

 private:
  // One level of the recursive walk (walk_generic, message_like, content) for its scope.
  class Nested {
   public:
    explicit Nested(int& depth) : depth_(depth) { ++depth_; }
    ~Nested() { --depth_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;
    bool too_deep() const { return depth_ > kMaxJsonDepth; }

   private:
    int& depth_;
  };

  const char* base_;
  std::string_view body_;
  ExtractedBody& out_;
  std::vector<bool>& conversational_;
  std::vector<Turn>& turns_;
  int depth_ = 0;
  std::string keys_;  // note_key
};

struct ParserSlot {
  sj::parser parser;
  std::string buffer;  // the body copied with SIMDJSON_PADDING bytes of capacity after it
  // The Walker's per-piece and per-turn bookkeeping, kept for the next body.
  std::vector<bool> conversational;
  std::vector<Turn> turns;
};

// Entries of the Walker's bookkeeping buffers a thread keeps between bodies.
constexpr std::size_t kKeptTurns = 4096;

ParserSlot& thread_parser() {
  thread_local ParserSlot slot;
  return slot;
}

void reset(ExtractedBody& out, Route route) {
  clear_for_reuse(out);
  out.route = route;
  out.parsed = false;
  out.model.clear();
  out.model_piece.reset();
  out.max_tokens.reset();
}

// `text` with its %XX escapes decoded, and '+' read as a space from `plus_from` on (a form
// body: 0; a request target: its query, from the '?'; npos: never).
std::string percent_decode(std::string_view text, std::size_t plus_from) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = hex::digit_value(text[i + 1]);
      const int lo = hex::digit_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(c == '+' && i >= plus_from ? ' ' : c);
  }
  return out;
}

void raw_fallback(Route route, std::string_view body, ExtractedBody& out) {
  reset(out, route);
  TextPiece& p = out.pieces.emplace_back();
  p.raw = true;
  p.matched_in = MatchedIn::kBody;
  p.layer = Layer::kPreTemplate;
  p.text = body;
  // A body simdjson refuses may still be JSON to the provider's parser (a lone surrogate, a BOM,
  // a number too large for a double, bytes after the root value), which decodes its escapes:
  // `\u0041KIA…` is an access key there. The rules see the body with its escapes decoded too.
  if (std::memchr(body.data(), '\\', body.size()) != nullptr) {
    TextPiece& d = out.pieces.emplace_back();
    d.raw = true;
    d.matched_in = MatchedIn::kBody;
    d.layer = Layer::kPreTemplate;
    std::string decoded;
    rules::decode_escapes(rules::EscapeReading::kJson, body, decoded);
    d.own(std::move(decoded));
  }
  // A form body (`application/x-www-form-urlencoded`) spells bytes as %XX: an upstream that
  // reads forms sees `%41KIA…` as an access key. So do the rules.
  if (std::memchr(body.data(), '%', body.size()) != nullptr) {
    TextPiece& f = out.pieces.emplace_back();
    f.raw = true;
    f.matched_in = MatchedIn::kBody;
    f.layer = Layer::kPreTemplate;
    f.own(percent_decode(body, 0));
  }
}

enum class Side { kRequest, kResponse };

// Top-level fields of a request body, per endpoint.
bool request_field(Walker& w, ExtractedBody& out, Endpoint ep, std::string_view key,
                   sj::value& val) {
  if (key == "model") {
    sj::json_type t;
    if (val.type().get(t)) return false;
    if (t == sj::json_type::string) {
      // Scanned too: it reaches the provider and the event's `model` label.
      const std::size_t at = out.pieces.size();
      if (!w.string_piece(val, MatchedIn::kBody, Layer::kPreTemplate, false)) return false;
      out.model_piece = at;
      out.model.assign(out.pieces[at].text.substr(0, 256));
      return true;
    }
    return w.walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate);
  }
  if (key == "max_tokens" || key == "max_completion_tokens" || key == "max_output_tokens") {
    return w.get_uint(val, out.max_tokens);
  }
  if (key == "tools" || key == "functions") return w.tool_definitions(val);
  switch (ep) {
    case Endpoint::kChatCompletions:
    case Endpoint::kOllamaChat:
      if (key == "messages") return w.messages(val);
      break;
    case Endpoint::kMessages:
      if (key == "messages") return w.messages(val);
      if (key == "system") return w.top_text(val, "system", true, true);
      break;
    case Endpoint::kCompletions:
      if (key == "prompt") return w.top_text(val, "user", false);
      if (key == "suffix") return w.top_text(val, "user", false);
      break;
    case Endpoint::kOllamaGenerate:
      if (key == "prompt" || key == "suffix") return w.top_text(val, "user", false);
      if (key == "system") return w.top_text(val, "system", true);
      if (key == "template") return w.top_text(val, "template", true);
      if (key == "images") return w.skip_value(val);
      break;
    case Endpoint::kResponses:
      if (key == "instructions") return w.top_text(val, "system", true, true);
      if (key == "input") return w.responses_input(val);
      break;
    case Endpoint::kEmbeddings:
      if (key == "input") return w.top_text(val, "input", false);
      break;
    case Endpoint::kUnknown:
      break;
  }
  if (key == "options" && (ep == Endpoint::kOllamaChat || ep == Endpoint::kOllamaGenerate)) {
    return w.ollama_options(val);
  }
  if (!is_known_parameter(key)) w.note_key(key);
  return w.walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate);
}

// `choices[]` of an OpenAI response: message (chat) or text (completions).
bool response_choices(Walker& w, sj::value& v) {
  sj::json_type t;
  if (v.type().get(t)) return false;
  if (t != sj::json_type::array) return w.skip_value(v);
  return for_each_item(v, [&](sj::value& item) {
    sj::json_type it;
    if (item.type().get(it)) return false;
    if (it != sj::json_type::object) {
      if (!w.skip_value(item)) return false;
      return true;
    }
    return for_each_field(item, [&](std::string_view key, sj::value& val) {
      if (key == "message" || key == "delta") {
        std::string role = "assistant";
        if (!w.message_like(val, role, true)) return false;
      } else if (key == "text") {
        if (!w.top_text(val, "assistant", false)) return false;
      } else if (!w.skip_value(val)) {
        return false;
      }
      return true;
    });
  });
}

// Top-level fields of a buffered response body, per dialect. Only model output is text here:
// ids, fingerprints and usage numbers are skipped (validated), so opaque ids cannot trip
// secret rules.
bool response_field(Walker& w, ExtractedBody& out, Route route, std::string_view key,
                    sj::value& val) {
  if (key == "model") {
    sj::json_type t;
    if (val.type().get(t)) return false;
    if (t == sj::json_type::string) return w.get_text(val, out.model, 256);
    return w.skip_value(val);
  }
  // An error's message reaches the client's exception text (and its logs): scanned whatever the
  // endpoint and status.
  if (key == "error") return w.walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate);
  switch (route.endpoint) {
    case Endpoint::kChatCompletions:
    case Endpoint::kCompletions:
      if (key == "choices") return response_choices(w, val);
      break;
    case Endpoint::kResponses:
      if (key == "output") return w.messages(val);
      break;
    case Endpoint::kMessages:
      if (key == "content") return w.top_text(val, "assistant", false);
      break;
    case Endpoint::kOllamaChat:
      if (key == "message") {
        std::string role = "assistant";
        return w.message_like(val, role, true);
      }
      break;
    case Endpoint::kOllamaGenerate:
      if (key == "response" || key == "thinking") return w.top_text(val, "assistant", false);
      break;
    case Endpoint::kEmbeddings:
      break;
    case Endpoint::kUnknown:
      return w.walk_generic(val, MatchedIn::kBody, Layer::kPreTemplate);
  }
  return w.skip_value(val);
}

void extract(Route route, std::string_view body, std::size_t padding, Side side,
             ExtractedBody& out) {
  ParserSlot& slot = thread_parser();
  simdjson::padded_string_view input;
  if (padding >= simdjson::SIMDJSON_PADDING) {
    input = simdjson::padded_string_view(body.data(), body.size(), body.size() + padding);
  } else {
    slot.buffer.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    slot.buffer.assign(body.data(), body.size());
    input = simdjson::padded_string_view(slot.buffer.data(), slot.buffer.size(),
                                         slot.buffer.capacity());
  }

  reset(out, route);
  sj::document doc;
  if (slot.parser.iterate(input).get(doc)) return raw_fallback(route, body, out);
  // A rare body of very many pieces does not pin its bookkeeping for good.
  if (slot.turns.capacity() > kKeptTurns) slot.turns = {};
  if (slot.conversational.capacity() > kKeptTurns) slot.conversational = {};
  Walker w(input.data(), body, out, slot.conversational, slot.turns);

  sj::json_type top;
  if (doc.type().get(top)) return raw_fallback(route, body, out);
  bool ok = true;
  if (top == sj::json_type::object) {
    sj::object o;
    if (doc.get_object().get(o)) return raw_fallback(route, body, out);
    for (auto f : o) {
      sj::field field;
      std::string_view key;
      if (std::move(f).get(field) || field.unescaped_key().get(key)) {
        ok = false;
        break;
      }
      bool field_ok = side == Side::kRequest
                          ? request_field(w, out, route.endpoint, key, field.value())
                          : response_field(w, out, route, key, field.value());
      if (!field_ok) {
        ok = false;
        break;
      }
    }
  } else if (top == sj::json_type::array && route.endpoint == Endpoint::kUnknown) {
    sj::value v;
    ok = !doc.get_value().get(v) && w.walk_generic(v, MatchedIn::kBody, Layer::kPreTemplate);
  } else {
    // A scalar document, or an array where a dialect expects an object: not the dialect's
    // shape. Scanned as raw bytes.
    ok = false;
  }
  // Trailing bytes after the root value ("{…} junk"): a provider's parser would refuse or
  // read them differently, so the body is not the dialect's JSON.
  if (!ok || doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return raw_fallback(route, body, out);
  }
  out.parsed = true;
  // Requests only: a response's parts are the model's own text, scanned part by part.
  w.build_conversation(side == Side::kRequest);
  w.keys_piece();
}

}  // namespace

std::size_t json_string_literal_length(std::string_view token) {
  // simdjson's token runs to the next structural character: after the closing quote there is
  // only whitespace. Trimming it finds the end without reading the string itself (a 16 KiB
  // message cost a memchr over all of it).
  std::size_t end = token.size();
  while (end > 0 && (token[end - 1] == ' ' || token[end - 1] == '\t' || token[end - 1] == '\n' ||
                     token[end - 1] == '\r')) {
    --end;
  }
  if (end >= 2 && token.front() == '"' && token[end - 1] == '"') {
    std::size_t backslashes = 0;
    while (end - 1 - backslashes > 1 && token[end - 2 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return end;
  }
  // No closing quote at the end (not a validated string): the first unescaped quote, if any.
  std::size_t i = 1;
  while (i < token.size()) {
    const void* hit = std::memchr(token.data() + i, '"', token.size() - i);
    if (hit == nullptr) return token.size();
    std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - token.data());
    std::size_t backslashes = 0;
    while (q - backslashes > 1 && token[q - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return q + 1;
    i = q + 1;
  }
  return token.size();
}

ExtractedBody extract_request(Route route, std::string_view body, std::size_t padding) {
  ExtractedBody out;
  extract(route, body, padding, Side::kRequest, out);
  return out;
}

ExtractedBody extract_response(Route route, std::string_view body, std::size_t padding) {
  ExtractedBody out;
  extract(route, body, padding, Side::kResponse, out);
  return out;
}

void extract_request(Route route, std::string_view body, std::size_t padding, ExtractedBody& out) {
  extract(route, body, padding, Side::kRequest, out);
}

void extract_response(Route route, std::string_view body, std::size_t padding, ExtractedBody& out) {
  extract(route, body, padding, Side::kResponse, out);
}

void clear_for_reuse(ExtractedBody& b, std::size_t keep_bytes) {
  b.model_piece.reset();
  b.tools_defined.clear();
  b.tools_called.clear();
  b.pieces.clear();
  b.segments.clear();
  b.glued_segments.clear();
  if (b.segments.capacity() * sizeof(ConversationSegment) > keep_bytes) {
    std::vector<ConversationSegment>().swap(b.segments);
  }
  if (b.glued_segments.capacity() * sizeof(ConversationSegment) > keep_bytes) {
    std::vector<ConversationSegment>().swap(b.glued_segments);
  }
  if (b.conversation.capacity() > keep_bytes) {
    std::string().swap(b.conversation);
  } else {
    b.conversation.clear();
  }
  if (b.glued.capacity() > keep_bytes) {
    std::string().swap(b.glued);
  } else {
    b.glued.clear();
  }
  if (b.pieces.capacity() * sizeof(TextPiece) > keep_bytes) std::vector<TextPiece>().swap(b.pieces);
}

TextPiece extract_url(std::string_view target) {
  TextPiece p;
  p.matched_in = MatchedIn::kUrl;
  p.layer = Layer::kPreTemplate;
  // Nothing to decode (no escape, no '+' that a query would read as a space): the target as is.
  if (target.find_first_of("%+") == std::string_view::npos) {
    p.text = target;
    return p;
  }
  // Form-encoded queries spell a space as '+'; paths do not.
  std::string decoded = percent_decode(target, target.find('?'));
  p.own(std::move(decoded));
  return p;
}

bool is_one_json_document(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  return !parser.parse(body.data(), body.size(), true).get(root);
}

bool is_credential_header(std::string_view name) {
  return http::iequals(name, "authorization") || http::iequals(name, "proxy-authorization") ||
         http::iequals(name, "cookie") || http::iequals(name, "set-cookie") ||
         http::iequals(name, "x-api-key") || http::iequals(name, "api-key") ||
         http::iequals(name, "x-goog-api-key");
}

std::vector<TextPiece> extract_headers(const http::Headers& headers) {
  std::vector<TextPiece> out;
  for (const http::Header& h : headers.list()) {
    if (is_credential_header(h.name)) continue;
    TextPiece p;
    p.matched_in = MatchedIn::kHeaders;
    p.layer = Layer::kPreTemplate;
    p.text = h.value;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace edgeward::inspect
