#pragma once
// Redaction: replacing found spans with `[REDACTED:<reason code>]`.
//
// Who calls: request inspection (rewriting a body before it goes upstream), the stream holdback
// (rewriting released text), `edgeward scan`. Pure functions; thread-safe.
//
// Rules:
//  - Spans are snapped outward to UTF-8 code point boundaries (start moves back over
//    continuation bytes, end moves forward over them), so the output is valid UTF-8 whenever
//    the input is.
//  - Overlapping spans are merged into one; the merged span takes the reason code of its longest
//    member (ties: the earlier start, then the lower priority). Spans that only touch stay apart.
//  - The caller chooses which findings to redact (typically those whose action is `redact`).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/engine.hpp"

namespace edgeward::rules {

struct RedactionSpan {
  std::uint64_t start = 0;  // absolute offsets, snapped and merged
  std::uint64_t end = 0;
  std::string_view reason_code;
};

// The merged, snapped spans for `findings` over `text`, which starts at absolute offset
// `text_offset` (0 for a whole text; the released window's start in stream mode). Findings
// outside the window are ignored; a span crossing the window's edge is clipped to it.
std::vector<RedactionSpan> plan_redactions(std::string_view text, std::span<const Finding> findings,
                                           std::uint64_t text_offset = 0);

// `text` with every planned span replaced by `[REDACTED:<reason code>]`.
std::string redact(std::string_view text, std::span<const Finding> findings,
                   std::uint64_t text_offset = 0);

// The replacement text for one reason code.
std::string redaction_marker(std::string_view reason_code);

}  // namespace edgeward::rules
