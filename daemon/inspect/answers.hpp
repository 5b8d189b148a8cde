#pragma once
// The answers the gateway itself writes (DESIGN §2): block bodies in each dialect's error shape,
// the policy 503 when no rules are loaded, and the one final error event that ends a blocked
// stream. The provider's own SDK turns each into its permission (or server) error.
//
// Rules:
//  - The message names the reason code and the rule's name, never the matched text; the rule
//    name comes from the (operator's) pack and is JSON-escaped.
//  - Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "daemon/inspect/dialect.hpp"

namespace edgeward::inspect {

// "blocked by edgeward: <code> (rule <rule name>)".
std::string block_message(std::string_view reason_code, std::string_view rule_name);

// The 403 body of a block:
//  openai/generic/ollama: {"error":{"message":…,"type":"edgeward_block","code":<code>,
//                          "param":null,"event":<uid>}}
//  anthropic:             {"type":"error","error":{"type":"permission_error","message":…}}
std::string block_body(Dialect dialect, std::string_view reason_code, std::string_view rule_name,
                       std::string_view event_uid);

// The 503 body of POLICY.RULES_UNAVAILABLE (fail_mode closed with no valid rules): the same
// shapes, type "edgeward_unavailable" (anthropic: "api_error"), no event.
std::string unavailable_body(Dialect dialect);

// How a streamed response is framed.
enum class StreamFormat : std::uint8_t { kSse, kNdjson };

// The final event that ends a blocked stream, in the dialect's streaming error shape:
//  openai/generic SSE: "data: <block body>\n\n" (the SDKs raise an APIError on `error`)
//  anthropic SSE:      "event: error\ndata: <anthropic block body>\n\n"
//  ollama NDJSON:      {"error":"blocked by edgeward: …"}\n
std::string stream_block_event(Dialect dialect, StreamFormat format, std::string_view reason_code,
                               std::string_view rule_name, std::string_view event_uid);

// The final event of a stream whose upstream failed after the head went out (reset, timeout, a
// bad chunk), in the shapes of the proxy's own 502/504 bodies, type edgeward_upstream_error:
//  openai/generic SSE: "data: {"error":{"message":…,"type":"edgeward_upstream_error",
//                      "code":<code>,"param":null}}\n\n"
//  anthropic SSE:      "event: error\ndata: {"type":"error","error":{"type":
//                      "edgeward_upstream_error","message":…}}\n\n"
//  ollama NDJSON:      {"error":<message>,"code":<code>}\n
std::string stream_failure_event(Dialect dialect, StreamFormat format, std::string_view message,
                                 std::string_view code);

}  // namespace edgeward::inspect
