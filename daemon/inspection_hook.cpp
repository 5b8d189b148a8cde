#include "daemon/inspection_hook.hpp"

namespace edgeward::daemon {

std::string_view to_string(ApiDialect dialect) {
  switch (dialect) {
    case ApiDialect::openai:
      return "openai";
    case ApiDialect::anthropic:
      return "anthropic";
    case ApiDialect::ollama:
      return "ollama";
    case ApiDialect::generic:
      return "generic";
  }
  return "generic";
}

namespace {
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

ApiDialect dialect_for(std::string_view setting, std::string_view path) {
  if (setting == "openai") return ApiDialect::openai;
  if (setting == "anthropic") return ApiDialect::anthropic;
  if (setting == "ollama") return ApiDialect::ollama;
  if (setting != "auto") return ApiDialect::generic;
  // By the path's ending, so that a gateway mounted under a prefix still resolves.
  if (ends_with(path, "/v1/chat/completions") || ends_with(path, "/v1/completions") ||
      ends_with(path, "/v1/responses") || ends_with(path, "/v1/embeddings")) {
    return ApiDialect::openai;
  }
  if (ends_with(path, "/v1/messages")) return ApiDialect::anthropic;
  if (ends_with(path, "/api/chat") || ends_with(path, "/api/generate")) return ApiDialect::ollama;
  return ApiDialect::generic;
}

}  // namespace edgeward::daemon
