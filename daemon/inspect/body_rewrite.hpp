#pragma once
// Rebuilding a JSON body with some of its string values replaced (request `redact`, DESIGN §2).
//
// Rules:
//  - A replacement names a byte range of the original body (a JSON string literal, quotes
//    included, from surfaces.hpp) and the new *unescaped* text; the new literal is written with
//    core/json.hpp's escaping, so the result is valid JSON whatever the text holds.
//  - Everything outside the ranges is copied byte for byte: key order, whitespace, numbers and
//    unknown fields reach the provider exactly as the client sent them.
//  - Pure functions, thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace edgeward::inspect {

struct StringReplacement {
  std::size_t begin = 0;  // the original string literal's range in the body
  std::size_t end = 0;
  std::string text;  // the new value, unescaped
};

// The body with every range replaced by the JSON string literal of its text. Ranges may come in
// any order but must not overlap and must lie inside the body: error "inspect.bad_replacement"
// otherwise (a bug in the caller, never the payload's fault).
Result<std::string> rewrite_json_strings(std::string_view body,
                                         std::vector<StringReplacement> replacements);

// What null_members did.
enum class NullMembers : std::uint8_t {
  kNone,        // no member `key`: `out` untouched
  kReplaced,    // `out` holds the JSON with every such member's value withheld
  kUnreadable,  // the text may hold one but does not parse, or nests deeper than 128 levels
};

// `json` with the value of every member named `key` replaced by `null`, or by `[]` when it is an
// array (its type kept for clients that iterate it), at any depth except inside tool-call JSON
// (`arguments`, `input`: a tool's own parameter of that name is not the provider's). For a
// member the gateway can neither scan in step with the text it copies nor rewrite: response
// `logprobs`, a token-by-token copy of the answer. A caller treats kUnreadable as a text it
// cannot vouch for (fail closed).
NullMembers null_members(std::string_view json, std::string_view key, std::string& out);

}  // namespace edgeward::inspect
