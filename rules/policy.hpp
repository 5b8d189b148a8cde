#pragma once
// The non-pattern rule kinds (DESIGN §3.2): tool_permission, model_permission, egress_domains,
// max_tokens, body_size. The proxy extracts the facts (tool names, model, URL hosts, requested
// max tokens, body size) and asks these functions which rules they violate.
//
// Who calls: request/response inspection, on any thread (pure functions over an immutable
// CompiledRules). Findings are appended to `out` with start == end == 0, one per violated rule,
// in the rules' priority order; nothing is appended when everything is allowed.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "rules/engine.hpp"

namespace edgeward::rules {

// Tool names a request defines (`tools[].function.name`, Anthropic `tools[].name`) or calls.
void check_tools(const CompiledRules& rules, Scope scope, std::span<const std::string_view> tools,
                 std::vector<Finding>& out);
// The request's model name.
void check_model(const CompiledRules& rules, Scope scope, std::string_view model,
                 std::vector<Finding>& out);
// One URL host found in traffic (lowercase or not; compared case-insensitively).
void check_domain(const CompiledRules& rules, Scope scope, std::string_view host,
                  std::vector<Finding>& out);
// The request's max_tokens / max_completion_tokens / max_output_tokens / num_predict.
void check_max_tokens(const CompiledRules& rules, Scope scope, std::uint64_t requested,
                      std::vector<Finding>& out);
// The body size in bytes.
void check_body_size(const CompiledRules& rules, Scope scope, std::uint64_t bytes,
                     std::vector<Finding>& out);

// The single-rule predicates behind the checks.
bool tool_allowed(const Rule& rule, std::string_view tool);
bool model_allowed(const Rule& rule, std::string_view model);
bool domain_allowed(const Rule& rule, std::string_view host);
// `*` matches any run of characters (including none); everything else matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace edgeward::rules
