#include "daemon/inspect/dialect.hpp"

namespace edgeward::inspect {

Result<DialectSetting> parse_dialect_setting(std::string_view text) {
  if (text == "auto") return DialectSetting::kAuto;
  if (text == "openai") return DialectSetting::kOpenAI;
  if (text == "anthropic") return DialectSetting::kAnthropic;
  if (text == "ollama") return DialectSetting::kOllama;
  if (text == "generic") return DialectSetting::kGeneric;
  return make_error("inspect.bad_dialect",
                    "dialect must be one of auto, openai, anthropic, ollama, generic");
}

namespace {

// Strips one trailing '/' so that "/v1/chat/completions/" routes like the canonical path.
std::string_view trim_slash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

Route openai_route(std::string_view p) {
  if (p.ends_with("/chat/completions")) return {Dialect::kOpenAI, Endpoint::kChatCompletions};
  if (p.ends_with("/completions")) return {Dialect::kOpenAI, Endpoint::kCompletions};
  if (p.ends_with("/responses")) return {Dialect::kOpenAI, Endpoint::kResponses};
  if (p.ends_with("/embeddings")) return {Dialect::kOpenAI, Endpoint::kEmbeddings};
  return {Dialect::kOpenAI, Endpoint::kUnknown};
}

Route anthropic_route(std::string_view p) {
  // "/v1/messages" only: "/v1/messages/count_tokens" and batches carry other shapes.
  if (p.ends_with("/v1/messages")) return {Dialect::kAnthropic, Endpoint::kMessages};
  return {Dialect::kAnthropic, Endpoint::kUnknown};
}

Route ollama_route(std::string_view p) {
  if (p.ends_with("/api/chat")) return {Dialect::kOllama, Endpoint::kOllamaChat};
  if (p.ends_with("/api/generate")) return {Dialect::kOllama, Endpoint::kOllamaGenerate};
  // Ollama also serves the OpenAI-compatible API under /v1/.
  Route r = openai_route(p);
  if (r.endpoint != Endpoint::kUnknown) return {Dialect::kOllama, r.endpoint};
  return {Dialect::kOllama, Endpoint::kUnknown};
}

}  // namespace

Route route_for(DialectSetting setting, std::string_view path) {
  std::string_view p = trim_slash(path);
  switch (setting) {
    case DialectSetting::kOpenAI:
      return openai_route(p);
    case DialectSetting::kAnthropic:
      return anthropic_route(p);
    case DialectSetting::kOllama:
      return ollama_route(p);
    case DialectSetting::kGeneric:
      return {Dialect::kGeneric, Endpoint::kUnknown};
    case DialectSetting::kAuto:
      break;
  }
  if (Route r = anthropic_route(p); r.endpoint != Endpoint::kUnknown) return r;
  if (p.ends_with("/api/chat") || p.ends_with("/api/generate")) return ollama_route(p);
  if (Route r = openai_route(p); r.endpoint != Endpoint::kUnknown) return r;
  return {Dialect::kGeneric, Endpoint::kUnknown};
}

std::string_view to_string(Dialect dialect) {
  switch (dialect) {
    case Dialect::kOpenAI:
      return "openai";
    case Dialect::kAnthropic:
      return "anthropic";
    case Dialect::kOllama:
      return "ollama";
    case Dialect::kGeneric:
      return "generic";
  }
  return "generic";
}

std::string_view to_string(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
      return "chat_completions";
    case Endpoint::kCompletions:
      return "completions";
    case Endpoint::kResponses:
      return "responses";
    case Endpoint::kEmbeddings:
      return "embeddings";
    case Endpoint::kMessages:
      return "messages";
    case Endpoint::kOllamaChat:
      return "ollama_chat";
    case Endpoint::kOllamaGenerate:
      return "ollama_generate";
    case Endpoint::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace edgeward::inspect
