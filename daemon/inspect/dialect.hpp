#pragma once
// Provider dialects (DESIGN §2): which API a request speaks, chosen by config or by path.
//
// Rules:
//  - Pure functions, thread-safe. `auto` looks only at the path (never the body), so that the
//    choice cannot be steered by the payload it is meant to inspect.
//  - Paths are matched by their ending, so a gateway mounted under a prefix ("/openai/v1/…") or
//    Azure-style deployment paths ("/openai/deployments/x/chat/completions") still resolve.

#include <cstdint>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::inspect {

// The wire family: decides the error shapes (DESIGN §2) and the stream framing.
enum class Dialect : std::uint8_t { kOpenAI, kAnthropic, kOllama, kGeneric };

// The API inside a family: decides where the texts live in the JSON body.
enum class Endpoint : std::uint8_t {
  kChatCompletions,  // openai /v1/chat/completions
  kCompletions,      // openai /v1/completions
  kResponses,        // openai /v1/responses
  kEmbeddings,       // openai /v1/embeddings
  kMessages,         // anthropic /v1/messages
  kOllamaChat,       // ollama /api/chat
  kOllamaGenerate,   // ollama /api/generate
  kUnknown,          // anything else: every JSON string value, or the raw bytes
};

// The `upstreams[].dialect` setting.
enum class DialectSetting : std::uint8_t { kAuto, kOpenAI, kAnthropic, kOllama, kGeneric };

struct Route {
  Dialect dialect = Dialect::kGeneric;
  Endpoint endpoint = Endpoint::kUnknown;
};

// Parses "auto", "openai", "anthropic", "ollama", "generic". Error "inspect.bad_dialect".
Result<DialectSetting> parse_dialect_setting(std::string_view text);

// The route of a request path (no query) under a setting. With `auto` the path decides the
// dialect; with an explicit dialect the path still picks the endpoint within it, and a path that
// is not one of the dialect's endpoints is inspected as kUnknown (generic extraction) while
// answers keep the configured dialect's shape.
Route route_for(DialectSetting setting, std::string_view path);

// "openai", "anthropic", "ollama", "generic".
std::string_view to_string(Dialect dialect);
// "chat_completions", "completions", "responses", "embeddings", "messages", "ollama_chat",
// "ollama_generate", "unknown".
std::string_view to_string(Endpoint endpoint);

}  // namespace edgeward::inspect
