#include "rules/redaction.hpp"

#include <algorithm>

namespace edgeward::rules {

namespace {

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

struct Span {
  std::size_t start, end;
  std::string_view code;
  std::int32_t priority;
};

}  // namespace

std::string redaction_marker(std::string_view reason_code) {
  std::string out = "[REDACTED:";
  out += reason_code;
  out += ']';
  return out;
}

std::vector<RedactionSpan> plan_redactions(std::string_view text, std::span<const Finding> findings,
                                           std::uint64_t text_offset) {
  std::vector<Span> spans;
  const std::uint64_t window_end = text_offset + text.size();
  for (const Finding& f : findings) {
    if (f.end <= f.start || f.end <= text_offset || f.start >= window_end) continue;
    std::size_t s = static_cast<std::size_t>(std::max(f.start, text_offset) - text_offset);
    std::size_t e = static_cast<std::size_t>(std::min(f.end, window_end) - text_offset);
    while (s > 0 && is_continuation(text[s])) --s;
    while (e < text.size() && is_continuation(text[e])) ++e;
    spans.push_back(Span{s, e, f.reason_code, f.priority});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  std::vector<RedactionSpan> out;
  std::size_t i = 0;
  while (i < spans.size()) {
    std::size_t end = spans[i].end;
    const Span* longest = &spans[i];
    std::size_t j = i + 1;
    for (; j < spans.size() && spans[j].start < end; ++j) {
      end = std::max(end, spans[j].end);
      const std::size_t len = spans[j].end - spans[j].start;
      const std::size_t best = longest->end - longest->start;
      if (len > best || (len == best && spans[j].start == longest->start &&
                         spans[j].priority < longest->priority)) {
        longest = &spans[j];
      }
    }
    out.push_back(RedactionSpan{spans[i].start + text_offset, end + text_offset, longest->code});
    i = j;
  }
  return out;
}

std::string redact(std::string_view text, std::span<const Finding> findings,
                   std::uint64_t text_offset) {
  std::vector<RedactionSpan> plan = plan_redactions(text, findings, text_offset);
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const auto& s : plan) {
    const std::size_t b = static_cast<std::size_t>(s.start - text_offset);
    const std::size_t e = static_cast<std::size_t>(s.end - text_offset);
    out.append(text.substr(pos, b - pos));
    out += redaction_marker(s.reason_code);
    pos = e;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace edgeward::rules
