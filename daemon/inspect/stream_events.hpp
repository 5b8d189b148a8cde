#pragma once
// What one streamed event (an SSE `data` payload or an NDJSON line) carries, per dialect
// (DESIGN §2): the text deltas with the span of their JSON string in the payload, the signals
// that end a text, and every other string for block-mode scanning.
//
//   openai chat      choices[i].delta.content / .refusal            → channel (i, text)
//                    choices[i].delta.tool_calls[j].function.arguments → channel (i, tool j)
//                    choices[i].delta.tool_calls[j].function.name   → a piece of tool j's name
//                    choices[i].finish_reason non-null               → ends choice i
//   openai completions choices[i].text                               → channel (i, text)
//   openai responses response.output_text.delta / refusal.delta      → (output, content)
//                    response.function_call_arguments.delta          → (output, tool)
//                    *.done, response.completed …                    → every string (block mode)
//   anthropic        content_block_delta text_delta / thinking_delta → channel (index, text)
//                    content_block_delta input_json_delta            → channel (index, tool)
//                    content_block_stop                              → ends that index
//                    message_stop                                    → ends everything
//   ollama (NDJSON)  message.content, message.thinking, response     → channel (0, text)
//                    message.tool_calls                              → every string (block mode)
//                    done: true                                      → ends everything
//
// Rules: pure functions; thread-safe. A payload that is not JSON is reported as such
// (`json_ok` false): the caller blocks the stream rather than pass it unscanned.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/inspect/dialect.hpp"
#include "daemon/inspect/surfaces.hpp"

namespace edgeward::inspect {

// Identifies one streamed text: (group, part). `group` is the choice / output / content-block
// index; `part` 0 is the message text, 1 + j the arguments of tool call j.
struct ChannelKey {
  std::uint64_t group = 0;
  std::uint64_t part = 0;
  friend bool operator==(const ChannelKey&, const ChannelKey&) = default;
};

struct StreamDelta {
  ChannelKey key;
  MatchedIn matched_in = MatchedIn::kBody;  // kTools for tool-call arguments
  Layer layer = Layer::kPreTemplate;        // kToolCall for tool-call arguments
  std::size_t span_begin = 0;               // the JSON string literal in the payload
  std::size_t span_end = 0;
  std::string text;  // unescaped
};

struct StreamEventInfo {
  bool json_ok = true;
  bool keepalive = false;  // carries nothing to inspect (ping, [DONE] handled by `ends_all`)
  bool ends_all = false;   // [DONE], message_stop, done:true
  std::vector<std::uint64_t> ends_groups;  // finish_reason, content_block_stop, *.done
  std::vector<StreamDelta> deltas;
  std::vector<TextPiece> others;          // other strings, scanned in block mode (spans in payload)
  std::vector<std::string> tools_called;  // whole names (Anthropic, Responses, Ollama)
  // OpenAI chat: a piece of the name of the tool call whose arguments stream on `key`. Clients
  // join the pieces of one call, so the name is known only once its call is complete.
  struct ToolNamePart {
    ChannelKey key;
    std::string text;
  };
  std::vector<ToolNamePart> tool_name_parts;
};

// Parses one payload. `event_name` is the SSE `event` field ("" for NDJSON / none).
StreamEventInfo parse_stream_event(Route route, std::string_view event_name,
                                   std::string_view payload);

// One string value of a generic event. Its `path` (keys and array indexes, "token.text",
// "choices.0.text") names the text it continues across events: the strings of one path, event
// after event, are one stream.
struct GenericString {
  std::string path;
  std::size_t span_begin = 0;  // the JSON string literal in the payload, quotes included
  std::size_t span_end = 0;
  std::string text;  // unescaped
};

// Every string value of a JSON payload (keys excluded), in document order. False when the
// payload is not one JSON value.
bool generic_strings(std::string_view payload, std::vector<GenericString>& out);

}  // namespace edgeward::inspect
