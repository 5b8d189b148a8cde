#include "daemon/inspect/exchange.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "daemon/inspect/body_rewrite.hpp"
#include "rules/json_escapes.hpp"
#include "rules/policy.hpp"
#include "rules/redaction.hpp"

namespace edgeward::inspect {

namespace {

// The redacted text of piece `p`, or nullopt when `p` holds JSON text (tool-call arguments)
// that parsed before and would not after: a match that takes in a quote or an escape's
// backslash cuts through the tool's JSON, which a redaction must not break.
std::optional<std::string> redacted_text(const TextPiece& p,
                                         const std::vector<rules::Finding>& findings) {
  std::string out = rules::redact(p.text, findings);
  if (!p.json_text) return out;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element ignored;
  if (parser.parse(p.text.data(), p.text.size()).get(ignored)) return out;  // not JSON before
  if (parser.parse(out).get(ignored)) return std::nullopt;
  return out;
}

// Places the findings of a decoded piece (TextPiece::decoded_from) on the piece it decodes, by
// the decoder's map (the bytes of the escapes included): a finding the source holds too (same
// rule, same bytes) is that one and is dropped; one only the decoded text holds (an escape
// inside it, or next to it and moving its boundary: `\ncard …`) moves onto the source when the
// source is a JSON string, so a redact rewrites its bytes there. On a source that cannot be
// rewritten (raw JSON) it stays where it is, and a redact there blocks. One that overlaps a
// finding of the same rule in the source is the same value read two ways (`\nsk-…` as
// `nsk-…`; a password holding `\t`): the source's finding stands for both, over the bytes of
// either.
template <class LocatedT>
void place_decoded_findings(const ExtractedBody& extracted, std::vector<LocatedT>& found) {
  const auto& pieces = extracted.pieces;
  auto in_range = [&](const LocatedT& l) {
    return l.piece < pieces.size() && l.finding.end <= pieces[l.piece].text.size();
  };
  auto decoded = [&](const LocatedT& l) {
    return in_range(l) && pieces[l.piece].decoded_from != TextPiece::kNotDecoded;
  };
  if (std::none_of(found.begin(), found.end(), decoded)) return;
  using Span = std::tuple<std::size_t, std::uint32_t, std::uint64_t, std::uint64_t>;
  std::vector<Span> sources;  // (piece, rule, start, end) of the findings in undecoded pieces
  for (const LocatedT& l : found) {
    if (in_range(l) && !decoded(l)) {
      sources.emplace_back(l.piece, l.finding.rule_index, l.finding.start, l.finding.end);
    }
  }
  std::sort(sources.begin(), sources.end());
  std::set<Span> moved;  // placed on their source by this pass
  // The source's findings a decoded one overlaps, and the bytes they cover with it.
  std::map<Span, std::pair<std::uint64_t, std::uint64_t>> widened;
  std::size_t mapped = TextPiece::kNotDecoded;
  rules::FoldedText map;
  std::erase_if(found, [&](LocatedT& l) {
    if (!decoded(l) || l.finding.end <= l.finding.start) return false;
    const std::size_t source = pieces[l.piece].decoded_from;
    if (source != mapped) {
      rules::unescape(pieces[l.piece].decoded_as, pieces[source].text, true, map);  // add_decoded's
      mapped = source;
    }
    if (l.finding.end > map.text.size()) return false;
    const Span at{source, l.finding.rule_index,
                  map.begin[static_cast<std::size_t>(l.finding.start)],
                  map.end[static_cast<std::size_t>(l.finding.end - 1)]};
    if (std::binary_search(sources.begin(), sources.end(), at) || moved.count(at) != 0) {
      return true;  // the source's own finding
    }
    // The source's findings of this rule that overlap it: the same value read two ways. The
    // source's finding stands for both, widened to cover the bytes of either reading: a
    // password holding `\t` ends at the tab decoded, and the wider raw reading keeps its tail
    // from leaking (a review's finding, helper-54). A match spans at most kMaxPatternWidth
    // bytes, so the search starts there, not at the rule's first finding (quadratic in an
    // 8 MiB body of them).
    const std::uint64_t reach = rules::kMaxPatternWidth;
    const std::uint64_t from = std::get<2>(at) > reach ? std::get<2>(at) - reach : 0;
    bool overlapped = false;
    for (auto it = std::lower_bound(sources.begin(), sources.end(),
                                    Span{source, l.finding.rule_index, from, 0});
         it != sources.end() && std::get<0>(*it) == source &&
         std::get<1>(*it) == l.finding.rule_index && std::get<2>(*it) < std::get<3>(at);
         ++it) {
      if (std::get<3>(*it) <= std::get<2>(at)) continue;
      overlapped = true;
      auto [w, inserted] = widened.try_emplace(*it, std::get<2>(*it), std::get<3>(*it));
      w->second.first = std::min(w->second.first, std::get<2>(at));
      w->second.second = std::max(w->second.second, std::get<3>(at));
    }
    if (overlapped) return true;
    if (pieces[source].span_kind != SpanKind::kJsonString) return false;
    l.piece = source;
    l.finding.start = std::get<2>(at);
    l.finding.end = std::get<3>(at);
    moved.insert(at);
    return false;
  });
  if (widened.empty()) return;
  for (LocatedT& l : found) {
    if (!in_range(l) || decoded(l)) continue;
    auto w = widened.find(Span{l.piece, l.finding.rule_index, l.finding.start, l.finding.end});
    if (w == widened.end()) continue;
    l.finding.start = w->second.first;
    l.finding.end = w->second.second;
  }
}

// A head as one text for one scan: the reason phrase (when given), then every header name and
// every value on a line of its own, so a pattern reads each alone; credential headers left out.
// The buffer is the thread's own, valid until the next call.
const std::string& head_text(std::string_view reason, const http::Headers& headers) {
  thread_local std::string text;
  text.clear();
  if (!reason.empty()) {
    text += reason;
    text += '\n';
  }
  for (const http::Header& h : headers.list()) {
    if (is_credential_header(h.name)) continue;
    text += h.name;
    text += '\n';
    text += h.value;
    text += '\n';
  }
  return text;
}

// Branch-free, so that lowercasing a window is a vectorised loop (bytes >= 0x80 wrap above
// 'Z' - 'A' and stay as they are).
char lower(char c) {
  const auto u = static_cast<unsigned char>(c);
  return static_cast<char>(u + (static_cast<unsigned char>(u - 'A') < 26 ? 'a' - 'A' : 0));
}

// True when every request-scope body pattern rule that covers the pre-template layer also
// covers the post-template layer (the default pack: every rule covers every layer).
bool post_covers_pre(const rules::CompiledRules& r) {
  for (const rules::Rule& rule : r.pack().rules) {
    if (rule.kind != rules::RuleKind::pattern) continue;
    auto has = [](const auto& v, auto x) { return std::find(v.begin(), v.end(), x) != v.end(); };
    if (!has(rule.scope, rules::Scope::request) || !has(rule.matched_in, rules::Surface::body)) {
      continue;
    }
    if (has(rule.layers, rules::Layer::pre_template) &&
        !has(rule.layers, rules::Layer::post_template)) {
      return false;
    }
  }
  return true;
}

// The `context.exclude` words of each rule that looks at the pre-template layer of request
// bodies: a word of another message near a text's edge in the joined conversation can silence
// a candidate that the text, alone, reports.
struct ExcludeRule {
  std::size_t within = 0;
  std::size_t longest = 0;              // the longest word
  std::vector<std::string_view> words;  // lowercase; a phrase is cut at its first space
};

std::vector<ExcludeRule> exclude_rules(const rules::CompiledRules& r) {
  std::vector<ExcludeRule> out;
  auto has = [](const auto& v, auto x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  for (const rules::Rule& rule : r.pack().rules) {
    if (rule.kind != rules::RuleKind::pattern || !rule.detect.context ||
        rule.detect.context->exclude.empty() || !has(rule.scope, rules::Scope::request) ||
        !has(rule.matched_in, rules::Surface::body) ||
        !has(rule.layers, rules::Layer::pre_template)) {
      continue;
    }
    ExcludeRule e;
    e.within = rule.detect.context->within;
    for (const std::string& w : rule.detect.context->exclude) {
      // The scanner lets a space match any whitespace run: the first word is the safe probe.
      std::string_view probe = std::string_view(w).substr(0, w.find(' '));
      if (probe.empty()) continue;
      e.words.push_back(probe);
      e.longest = std::max(e.longest, probe.size());
    }
    if (!e.words.empty()) out.push_back(std::move(e));
  }
  return out;
}

bool is_word_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_';
}

// True when the `size` bytes at `pos` of `text` are a whole word (the scanner's word bytes).
// (The scanner also counts a word its context window cuts out of a longer one, "ver" of "over"
// exactly `within` bytes away; such a cut is not a word of the text and does not make us scan
// a text alone.)
bool whole_word(std::string_view text, std::size_t pos, std::size_t size) {
  return (pos == 0 || !is_word_byte(text[pos - 1])) &&
         (pos + size >= text.size() || !is_word_byte(text[pos + size]));
}

// Whether an exclude word outside the text [b, e) of `conv` could fall in the context window of
// a candidate inside it: the text must then be scanned alone for its pre-template findings.
bool exclude_word_near(std::string_view conv, std::size_t b, std::size_t e,
                       const std::vector<ExcludeRule>& rules, std::string& low) {
  // Each edge is lowercased once, over the widest window of all rules; a hit then counts for
  // a rule only inside that rule's own window. (A word of rule r found in the wide window
  // that satisfies r's position bounds lies wholly inside r's window, since no word of r is
  // longer than r.longest: the answer is the one of a lowered window per rule.)
  std::size_t within = 0;
  std::size_t longest = 0;
  for (const ExcludeRule& r : rules) {
    within = std::max(within, r.within);
    longest = std::max(longest, r.longest);
  }
  auto lowered = [&](std::size_t lo, std::size_t hi) {
    low.assign(conv.substr(lo, hi - lo));
    for (char& c : low) c = lower(c);
  };
  // Before: words starting in the window that reaches back from the text's start.
  std::size_t lo = b > within ? b - within : 0;
  lowered(lo, std::min(conv.size(), b + longest));
  for (const ExcludeRule& r : rules) {
    const std::size_t from = (b > r.within ? b - r.within : 0) - lo;
    for (std::string_view w : r.words) {
      for (std::size_t p = low.find(w, from); p != std::string::npos && lo + p < b;
           p = low.find(w, p + 1)) {
        if (whole_word(conv, lo + p, w.size())) return true;
      }
    }
  }
  // After: words that end beyond the text's end and start within the window after it.
  lo = e > longest ? e - longest : 0;
  lowered(lo, std::min(conv.size(), e + within + longest));
  for (const ExcludeRule& r : rules) {
    const std::size_t from = (e > r.longest ? e - r.longest : 0) - lo;
    for (std::string_view w : r.words) {
      for (std::size_t p = low.find(w, from); p != std::string::npos && lo + p < e + r.within;
           p = low.find(w, p + 1)) {
        if (lo + p + w.size() > e && whole_word(conv, lo + p, w.size())) return true;
      }
    }
  }
  return false;
}

// A worker thread extracts every body into one ExtractedBody, so that its buffers (the joined
// conversation above all) are not allocated again for each request; it is emptied when the
// inspection returns, since its views point into that request's body.
struct ReusedExtraction {
  ExtractedBody& body;
  ~ReusedExtraction() { clear_for_reuse(body); }
};

bool has_policy_kind(const rules::CompiledRules& r, rules::RuleKind kind) {
  for (std::uint32_t i : r.policy_rules()) {
    if (r.rule(i).kind == kind) return true;
  }
  return false;
}

// What inspection derives from a rule set, worked out once per set on each thread rather than
// per request (walking every rule's scope, surface and layer lists cost ~2,000 instructions a
// request). The views point into that set's pack, which the exchange holds.
struct RuleSetFacts {
  bool post_covers_pre = false;
  bool egress_domains = false;
  std::vector<ExcludeRule> exclude;
};

// Entries of the per-thread index buffers of scan_request kept between requests.
constexpr std::size_t kKeptIndexEntries = 4096;

const RuleSetFacts& rule_set_facts(const rules::CompiledRules& r) {
  thread_local std::uint64_t generation = 0;  // generations start at 1
  thread_local RuleSetFacts cached;
  if (generation != r.generation()) {
    cached.post_covers_pre = post_covers_pre(r);
    cached.egress_domains = has_policy_kind(r, rules::RuleKind::egress_domains);
    cached.exclude = exclude_rules(r);
    generation = r.generation();
  }
  return cached;
}
}  // namespace

std::vector<std::string> url_hosts(std::string_view text, std::size_t limit) {
  std::vector<std::string> hosts;
  std::size_t i = 0;
  while (i < text.size() && hosts.size() < limit) {
    std::size_t p = text.find("://", i);
    if (p == std::string_view::npos) break;
    // The scheme must be http or https, case-insensitively.
    std::size_t s = p;
    while (s > 0 && ((text[s - 1] >= 'a' && text[s - 1] <= 'z') ||
                     (text[s - 1] >= 'A' && text[s - 1] <= 'Z'))) {
      --s;
    }
    std::string scheme;
    for (std::size_t k = s; k < p; ++k) scheme.push_back(lower(text[k]));
    i = p + 3;
    if (scheme != "http" && scheme != "https") continue;
    std::size_t e = i;
    while (e < text.size()) {
      char c = text[e];
      if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
          c == '"' || c == '\'' || c == ')' || c == '(' || c == '<' || c == '>' || c == '\\' ||
          c == ']' || c == '[' || c == ',') {
        break;
      }
      ++e;
    }
    std::string_view authority = text.substr(i, e - i);
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
    std::string host;
    if (!authority.empty() && authority.front() == '[') {
      host.assign(authority);  // IPv6 literal: kept whole
    } else {
      authority = authority.substr(0, authority.find(':'));
      for (char c : authority) host.push_back(lower(c));
      while (!host.empty() && host.back() == '.') host.pop_back();
    }
    if (!host.empty() && std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
      hosts.push_back(std::move(host));
    }
    i = e;
  }
  return hosts;
}

ExchangeInspector::ExchangeInspector(std::shared_ptr<const rules::CompiledRules> rules,
                                     rules::Scanner& scanner, InspectionPolicy policy,
                                     ExchangeFacts facts)
    : rules_(std::move(rules)),
      scanner_(scanner),
      policy_(policy),
      facts_(std::move(facts)),
      events_(facts_) {}

void ExchangeInspector::scan_piece(const TextPiece& piece, std::size_t index, rules::Scope scope,
                                   std::vector<Located>& out) {
  scan_text(piece.text, piece.matched_in, piece.layer, piece.raw, index, scope, out);
}

void ExchangeInspector::scan_text(std::string_view text, MatchedIn matched_in, Layer piece_layer,
                                  bool raw, std::size_t index, rules::Scope scope,
                                  std::vector<Located>& out) {
  rules::Surface surface = to_rules(matched_in);
  if (!rules_->has_patterns(scope, surface) || text.empty()) return;
  // The raw-bytes fallback is seen by every rule covering the surface, whatever its layers.
  static constexpr rules::Layer kAllLayers[] = {
      rules::Layer::pre_template, rules::Layer::post_template, rules::Layer::tool_call};
  static constexpr rules::Layer kPre[] = {rules::Layer::pre_template};
  static constexpr rules::Layer kPost[] = {rules::Layer::post_template};
  static constexpr rules::Layer kTool[] = {rules::Layer::tool_call};
  std::span<const rules::Layer> layers =
      raw                                   ? std::span<const rules::Layer>(kAllLayers)
      : piece_layer == Layer::kToolCall     ? std::span<const rules::Layer>(kTool)
      : piece_layer == Layer::kPostTemplate ? std::span<const rules::Layer>(kPost)
                                            : std::span<const rules::Layer>(kPre);
  for (rules::Layer layer : layers) {
    scratch_.clear();
    counters_.bytes_scanned += text.size();
    Status st = scanner_.scan(*rules_, scope, surface, layer, text, scratch_);
    if (!st.ok()) {
      // A failed scan cannot vouch for the text: a finding without a rule marks it, and the
      // caller fails closed.
      out.push_back(Located{rules::Finding{}, kNoPiece, matched_in, piece_layer});
      return;
    }
    for (const rules::Finding& f : scratch_) {
      Layer l = layer == rules::Layer::tool_call       ? Layer::kToolCall
                : layer == rules::Layer::post_template ? Layer::kPostTemplate
                                                       : Layer::kPreTemplate;
      out.push_back(Located{f, index, matched_in, raw ? l : piece_layer});
    }
  }
}

void ExchangeInspector::policy_checks(const ExtractedBody& body, rules::Scope scope,
                                      std::uint64_t body_size, std::vector<Located>& out) {
  if (rules_->policy_rules().empty()) return;
  auto add = [&](MatchedIn in, Layer layer) {
    for (const rules::Finding& f : scratch_) out.push_back(Located{f, kNoPiece, in, layer});
    scratch_.clear();
  };
  scratch_.clear();
  std::vector<std::string_view> tools;
  for (const auto& t : body.tools_defined) tools.push_back(t);
  for (const auto& t : body.tools_called) tools.push_back(t);
  if (!tools.empty()) {
    rules::check_tools(*rules_, scope, tools, scratch_);
    add(MatchedIn::kTools, Layer::kToolCall);
  }
  if (scope == rules::Scope::request) {
    if (!body.model.empty()) {
      rules::check_model(*rules_, scope, body.model, scratch_);
      add(MatchedIn::kBody, Layer::kPreTemplate);
    }
    if (body.max_tokens) {
      rules::check_max_tokens(*rules_, scope, *body.max_tokens, scratch_);
      add(MatchedIn::kBody, Layer::kPreTemplate);
    }
  }
  rules::check_body_size(*rules_, scope, body_size, scratch_);
  add(MatchedIn::kBody, Layer::kPreTemplate);
  if (rule_set_facts(*rules_).egress_domains) {
    std::vector<std::string> seen;
    for (const TextPiece& p : body.pieces) {
      for (std::string& h : url_hosts(p.text)) {
        if (std::find(seen.begin(), seen.end(), h) != seen.end() || seen.size() >= 64) continue;
        rules::check_domain(*rules_, scope, h, scratch_);
        add(p.matched_in, p.layer);
        seen.push_back(std::move(h));
      }
    }
  }
}

Answer ExchangeInspector::block_answer(const rules::Finding& f, std::string_view uid) const {
  Answer a;
  a.status = 403;
  a.reason_code.assign(f.reason_code);
  a.event_uid.assign(uid);
  a.body = block_body(facts_.route.dialect, f.reason_code, f.rule_name, uid);
  return a;
}

namespace {
Answer unavailable(Dialect d) {
  Answer a;
  a.status = 503;
  a.reason_code = "POLICY.RULES_UNAVAILABLE";
  a.body = unavailable_body(d);
  return a;
}
}  // namespace

RequestDecision ExchangeInspector::inspect_request(const http::Headers& headers,
                                                   std::string_view target, std::string_view body,
                                                   std::size_t padding) {
  RequestDecision d;
  if (!rules_) {
    if (policy_.fail_closed) {
      d.kind = RequestDecision::Kind::answer;
      d.answer = unavailable(facts_.route.dialect);
    }
    return d;
  }
  thread_local ExtractedBody extracted;
  ReusedExtraction reuse{extracted};
  extract_request(facts_.route, body, padding, extracted);
  return decide_request(extracted, scan_request(extracted, headers, target, body.size()), body);
}

std::vector<ExchangeInspector::Located> ExchangeInspector::scan_request(
    const ExtractedBody& extracted, const http::Headers& headers, std::string_view target,
    std::uint64_t body_size) {
  const rules::Scope scope = rules::Scope::request;

  // One pass over the conversation instead of two: when every body rule that looks at the
  // pre-template layer also looks at the post-template one, the texts that are in the
  // conversation are not scanned again on their own; a conversation finding inside one such
  // text is that text's pre-template finding.
  const RuleSetFacts& facts = rule_set_facts(*rules_);
  const bool single_pass = !extracted.conversation.empty() && facts.post_covers_pre;
  // Per-thread index buffers: their capacity outlives the request, so none is allocated.
  thread_local std::vector<std::size_t> segment_of;
  thread_local std::vector<bool> alone;
  segment_of.assign(extracted.pieces.size(), kNoPiece);
  alone.assign(extracted.pieces.size(), false);
  for (std::size_t s = 0; s < extracted.segments.size(); ++s) {
    segment_of[extracted.segments[s].piece] = s;
  }
  auto joined_pre = [&](std::size_t i) {
    const TextPiece& p = extracted.pieces[i];
    return single_pass && segment_of[i] != kNoPiece && !p.raw && p.matched_in == MatchedIn::kBody &&
           p.layer == Layer::kPreTemplate;
  };
  // Context words must not cross message boundaries in the pre-template layer (each text is
  // judged alone there; only the post-template layer is the joined text the model reads). A
  // conversation finding is re-judged on its text alone below; the one thing that cannot be
  // recovered from the joined scan is a candidate an exclude word of a neighbouring text
  // silenced, so a text with such a word within reach of its edges is scanned on its own.
  if (single_pass) {
    const std::vector<ExcludeRule>& ex = facts.exclude;
    if (!ex.empty()) {
      thread_local std::string low;
      for (const ConversationSegment& seg : extracted.segments) {
        if (!joined_pre(seg.piece)) continue;
        alone[seg.piece] =
            exclude_word_near(extracted.conversation, seg.offset,
                              seg.offset + extracted.pieces[seg.piece].text.size(), ex, low);
      }
    }
  }
  std::vector<Located> found;
  for (std::size_t i = 0; i < extracted.pieces.size(); ++i) {
    if (joined_pre(i) && !alone[i]) continue;
    scan_piece(extracted.pieces[i], i, scope, found);
  }
  if (!extracted.conversation.empty()) {
    std::size_t first = found.size();
    scan_text(extracted.conversation, MatchedIn::kBody, Layer::kPostTemplate, false, kConversation,
              scope, found);
    if (single_pass) {
      for (std::size_t k = first; k < found.size(); ++k) {
        Located& l = found[k];
        if (l.piece != kConversation) continue;
        // The segment that starts at or before the finding (segments are in offset order).
        auto it = std::upper_bound(
            extracted.segments.begin(), extracted.segments.end(), l.finding.start,
            [](std::uint64_t off, const ConversationSegment& seg) { return off < seg.offset; });
        if (it == extracted.segments.begin()) continue;
        const ConversationSegment& seg = *(it - 1);
        const TextPiece& p = extracted.pieces[seg.piece];
        if (!joined_pre(seg.piece) || alone[seg.piece] ||
            l.finding.end > seg.offset + p.text.size()) {
          continue;
        }
        const rules::Rule& rule = rules_->rule(l.finding.rule_index);
        if (std::find(rule.layers.begin(), rule.layers.end(), rules::Layer::pre_template) ==
            rule.layers.end()) {
          continue;
        }
        // Judged on its own text: a context word of another message does not count here. A
        // candidate that needed one stays a post-template finding.
        bool context = false;
        if (rule.detect.context && !rules::accept_candidate(*rules_, l.finding.rule_index, p.text,
                                                            0, l.finding.start - seg.offset,
                                                            l.finding.end - seg.offset, context)) {
          continue;
        }
        if (rule.detect.context) l.finding.context_matched = context;
        l.finding.start -= seg.offset;
        l.finding.end -= seg.offset;
        l.piece = seg.piece;
        l.layer = Layer::kPreTemplate;
      }
    }
  }
  if (!extracted.glued.empty()) {
    // Only what crosses from one text part into the next: the rest is the conversation's.
    const std::size_t first = found.size();
    scan_text(extracted.glued, MatchedIn::kBody, Layer::kPostTemplate, false, kGlued, scope, found);
    const auto& segs = extracted.glued_segments;
    auto seg_end = [&](std::size_t k) {
      return segs[k].offset + extracted.pieces[segs[k].piece].text.size();
    };
    // Where the run of glued parts each part is in begins and ends: a match must not reach past
    // it into the next message's run (they are apart by a newline that some patterns read
    // through).
    thread_local std::vector<std::uint64_t> run_end;
    thread_local std::vector<std::size_t> run_first;
    run_end.assign(segs.size(), 0);
    run_first.assign(segs.size(), 0);
    for (std::size_t k = segs.size(); k-- > 0;) {
      const bool glued_to_next = k + 1 < segs.size() && seg_end(k) == segs[k + 1].offset;
      run_end[k] = glued_to_next ? run_end[k + 1] : seg_end(k);
    }
    for (std::size_t k = 1; k < segs.size(); ++k) {
      run_first[k] = seg_end(k - 1) == segs[k].offset ? run_first[k - 1] : k;
    }
    // The first part that begins after `off`.
    auto part_after = [&](std::uint64_t off) {
      return static_cast<std::size_t>(
          std::upper_bound(
              segs.begin(), segs.end(), off,
              [](std::uint64_t o, const ConversationSegment& seg) { return o < seg.offset; }) -
          segs.begin());
    };
    // The part that holds `off`, if any (not the newline between two runs).
    auto segment_at = [&](std::uint64_t off) -> std::optional<std::size_t> {
      const std::size_t after = part_after(off);
      if (after == 0 || off >= seg_end(after - 1)) return std::nullopt;
      return after - 1;
    };
    // A glued finding is its rule's union of overlapping matches (rules/scanner.cpp). One
    // within its run is kept when it runs from the part it starts in into the next, or when it
    // starts where the rule's previous one ended: a union longer than kMaxPatternWidth goes on
    // in a finding that starts there, made of matches that began before it, maybe in the part
    // before (kept whole, it also covers matches of one part, which the conversation finds
    // anyway). A union that reads past its run may join a match across two parts with one
    // reading into the next message: the runs it covers are scanned again each alone, and
    // their findings judged the same way. Judged whole, such a union was dropped, the card
    // across two parts with it, and so was a union's next finding at a part's start (a
    // review's findings). The rest is the conversation's.
    thread_local std::vector<std::uint64_t> last_end;  // per rule: where its last one ended
    last_end.assign(rules_->pack().rules.size(), UINT64_MAX);
    // Per rule: where its last finding that sent its runs to be scanned again ended.
    thread_local std::vector<std::uint64_t> dropped_end;
    dropped_end.assign(rules_->pack().rules.size(), UINT64_MAX);
    std::vector<bool> rescan(segs.size(), false);  // by a run's first segment
    std::vector<Located> kept, within;             // within: glued findings that stay in their run
    auto judge = [&](const Located& l) {
      const auto k = segment_at(l.finding.start);
      if (!k) return;
      std::uint64_t& last = last_end[l.finding.rule_index];
      if (l.finding.end > seg_end(*k) || l.finding.start == last) kept.push_back(l);
      last = l.finding.end;
    };
    for (std::size_t i = first; i < found.size(); ++i) {
      const Located& l = found[i];
      if (l.piece != kGlued || l.finding.rule_id.empty()) {
        kept.push_back(l);
        continue;
      }
      const auto k = segment_at(l.finding.start);
      std::uint64_t& dropped = dropped_end[l.finding.rule_index];
      if (k && l.finding.end <= run_end[*k] && l.finding.start != dropped) {
        within.push_back(l);
        continue;
      }
      // It reads past its run, or goes on from a union that did (a union's next finding, made
      // of matches that began in it): the runs it covers are judged alone. The first part that
      // ends after its start is found by a search (a walk from the first part made a body of
      // many messages quadratic: a review's finding).
      std::size_t j = part_after(l.finding.start);
      if (j > 0 && seg_end(j - 1) > l.finding.start) --j;
      for (; j < segs.size() && segs[j].offset < l.finding.end; ++j) rescan[run_first[j]] = true;
      dropped = l.finding.end;
    }
    const std::string_view glued = extracted.glued;
    for (std::size_t k = 0; k < segs.size(); ++k) {
      if (!rescan[k]) continue;
      std::vector<Located> alone;
      const std::uint64_t from = segs[k].offset;
      scan_text(glued.substr(from, run_end[k] - from), MatchedIn::kBody, Layer::kPostTemplate,
                false, kGlued, scope, alone);
      for (Located& l : alone) {
        if (l.finding.rule_id.empty()) {
          kept.push_back(l);
          continue;
        }
        l.finding.start += from;
        l.finding.end += from;
        within.push_back(l);
      }
    }
    // In order of rule and start, so that a union's next finding follows it.
    std::stable_sort(within.begin(), within.end(), [](const Located& a, const Located& b) {
      return std::pair(a.finding.rule_index, a.finding.start) <
             std::pair(b.finding.rule_index, b.finding.start);
    });
    for (const Located& l : within) judge(l);
    found.resize(first);
    found.insert(found.end(), kept.begin(), kept.end());
    if (run_end.capacity() > kKeptIndexEntries) run_end = {};
    if (run_first.capacity() > kKeptIndexEntries) run_first = {};
  }
  TextPiece url = extract_url(target);
  scan_piece(url, kNoPiece, scope, found);
  // Header names and values, credentials aside, in one text: one scan instead of one per value.
  const std::string& head = head_text({}, headers);
  if (!head.empty()) {
    scan_text(head, MatchedIn::kHeaders, Layer::kPreTemplate, false, kNoPiece, scope, found);
  }
  place_decoded_findings(extracted, found);
  policy_checks(extracted, scope, body_size, found);
  // A body of many thousands of pieces must not pin its index buffers for good.
  if (segment_of.capacity() > kKeptIndexEntries) {
    segment_of = {};
    alone = {};
  }
  return found;
}

RequestDecision ExchangeInspector::decide_request(const ExtractedBody& extracted,
                                                  std::vector<Located> found,
                                                  std::string_view body) {
  RequestDecision d;
  // A model string that holds a finding is not a model name: the label keeps it out of the store.
  const bool model_holds_finding =
      extracted.model_piece && std::any_of(found.begin(), found.end(), [&](const Located& l) {
        return l.piece == *extracted.model_piece;
      });
  events_.set_model(model_holds_finding ? std::string_view("withheld") : extracted.model);
  // A scan that failed: fail closed like missing rules.
  for (const Located& l : found) {
    if (l.finding.rule_id.empty()) {
      d.kind = RequestDecision::Kind::answer;
      d.answer = unavailable(facts_.route.dialect);
      return d;
    }
  }
  if (found.empty()) return d;
  counters_.findings += found.size();

  std::stable_sort(found.begin(), found.end(), [](const Located& a, const Located& b) {
    // Post-template after the individual texts, so a rule's event names the specific layer.
    bool ac = a.piece == kConversation || a.piece == kGlued;
    bool bc = b.piece == kConversation || b.piece == kGlued;
    if (a.finding.priority != b.finding.priority) return a.finding.priority < b.finding.priority;
    return ac < bc;
  });
  const rules::Decision decision = decide_and_record(found, store::Scope::kRequest);

  switch (decision.verdict) {
    case rules::Verdict::allow:
      return d;
    case rules::Verdict::monitor:
      d.monitored = true;
      return d;
    case rules::Verdict::block: {
      const rules::Finding& f = found[*decision.deciding].finding;
      d.kind = RequestDecision::Kind::answer;
      d.answer = block_answer(f, events_.uid_of(f.rule_index));
      return d;
    }
    case rules::Verdict::redact:
      break;
  }

  // Redact: every redact finding rewritten in its JSON string; anything not rewritable blocks.
  std::vector<std::vector<rules::Finding>> per_piece(extracted.pieces.size());
  for (const Located& l : found) {
    if (l.finding.action != rules::Action::redact) continue;
    bool rewritable = false;
    if (l.piece == kConversation || l.piece == kGlued) {
      // Map the span in the join back onto the pieces it covers: from the last one starting at
      // or before it, until one starts past it (segments are in offset order; a body of many
      // parts and many findings must not cost their product).
      rewritable = true;
      const auto& segs = l.piece == kGlued ? extracted.glued_segments : extracted.segments;
      auto from = std::upper_bound(
          segs.begin(), segs.end(), l.finding.start,
          [](std::uint64_t off, const ConversationSegment& seg) { return off < seg.offset; });
      if (from != segs.begin()) --from;
      for (auto it = from; it != segs.end() && it->offset < l.finding.end; ++it) {
        const ConversationSegment& seg = *it;
        const TextPiece& p = extracted.pieces[seg.piece];
        std::uint64_t b = seg.offset;
        std::uint64_t e = seg.offset + p.text.size();
        if (l.finding.end <= b || l.finding.start >= e) continue;
        if (p.span_kind != SpanKind::kJsonString) {
          rewritable = false;
          break;
        }
        rules::Finding local = l.finding;
        local.start = std::max<std::uint64_t>(l.finding.start, b) - b;
        local.end = std::min<std::uint64_t>(l.finding.end, e) - b;
        per_piece[seg.piece].push_back(local);
      }
    } else if (l.piece < extracted.pieces.size() &&
               extracted.pieces[l.piece].span_kind == SpanKind::kJsonString) {
      rewritable = true;
      per_piece[l.piece].push_back(l.finding);
    }
    if (!rewritable) {
      events_.set_action(l.finding.rule_index, store::Action::kBlock);
      d.kind = RequestDecision::Kind::answer;
      d.answer = block_answer(l.finding, events_.uid_of(l.finding.rule_index));
      return d;
    }
  }
  std::vector<StringReplacement> replacements;
  for (std::size_t i = 0; i < per_piece.size(); ++i) {
    if (per_piece[i].empty()) continue;
    const TextPiece& p = extracted.pieces[i];
    auto text = redacted_text(p, per_piece[i]);
    if (!text) {
      const rules::Finding& f = per_piece[i].front();
      events_.set_action(f.rule_index, store::Action::kBlock);
      d.kind = RequestDecision::Kind::answer;
      d.answer = block_answer(f, events_.uid_of(f.rule_index));
      return d;
    }
    replacements.push_back({p.span_begin, p.span_end, std::move(*text)});
  }
  auto rewritten = rewrite_json_strings(body, std::move(replacements));
  if (!rewritten.ok()) {
    const rules::Finding& f = found[*decision.deciding].finding;
    d.kind = RequestDecision::Kind::answer;
    d.answer = block_answer(f, events_.uid_of(f.rule_index));
    return d;
  }
  for (const Located& l : found) {
    if (l.finding.action == rules::Action::redact) events_.set_retry(l.finding.rule_index, true);
  }
  d.kind = RequestDecision::Kind::rewrite;
  d.body = std::move(*rewritten);
  return d;
}

rules::Decision ExchangeInspector::record_response(std::vector<Located>& found) {
  counters_.findings += found.size();
  std::stable_sort(found.begin(), found.end(), [](const Located& a, const Located& b) {
    return a.finding.priority < b.finding.priority;
  });
  return decide_and_record(found, store::Scope::kResponse);
}

rules::Decision ExchangeInspector::decide_and_record(const std::vector<Located>& found,
                                                     store::Scope scope) {
  std::vector<rules::Finding> findings;
  findings.reserve(found.size());
  for (const Located& l : found) findings.push_back(l.finding);
  rules::Decision decision = rules::decide(findings);
  // The deciding rule's event first, so the 16-event cap never drops it.
  if (decision.deciding) {
    const Located& l = found[*decision.deciding];
    events_.record(*rules_, l.finding, scope, l.matched_in, l.layer);
  }
  for (const Located& l : found) events_.record(*rules_, l.finding, scope, l.matched_in, l.layer);
  return decision;
}

std::optional<Answer> ExchangeInspector::inspect_response_head(const http::ResponseHead& head) {
  if (!rules_ || !rules_->has_patterns(rules::Scope::response, rules::Surface::headers)) {
    return std::nullopt;
  }
  const std::string& text = head_text(head.reason, head.headers);
  std::vector<Located> found;
  scan_text(text, MatchedIn::kHeaders, Layer::kPreTemplate, false, kNoPiece, rules::Scope::response,
            found);
  if (found.empty()) return std::nullopt;
  for (const Located& l : found) {
    if (l.finding.rule_id.empty()) return unavailable(facts_.route.dialect);
  }
  const rules::Decision decision = record_response(found);
  if (decision.verdict != rules::Verdict::block && decision.verdict != rules::Verdict::redact) {
    return std::nullopt;
  }
  const rules::Finding& f = found[*decision.deciding].finding;
  events_.set_action(f.rule_index, store::Action::kBlock);
  return block_answer(f, events_.uid_of(f.rule_index));
}

ResponseDecision ExchangeInspector::inspect_response(std::string_view body, std::size_t padding) {
  ResponseDecision d;
  if (!rules_) return d;
  const rules::Scope scope = rules::Scope::response;
  thread_local ExtractedBody extracted;
  ReusedExtraction reuse{extracted};
  extract_response(facts_.route, body, padding, extracted);
  std::vector<Located> found;
  for (std::size_t i = 0; i < extracted.pieces.size(); ++i) {
    scan_piece(extracted.pieces[i], i, scope, found);
  }
  place_decoded_findings(extracted, found);
  policy_checks(extracted, scope, body.size(), found);
  for (const Located& l : found) {
    if (l.finding.rule_id.empty()) {
      d.kind = ResponseDecision::Kind::answer;
      d.answer = unavailable(facts_.route.dialect);
      return d;
    }
  }
  if (found.empty()) return d;
  const rules::Decision decision = record_response(found);
  if (decision.verdict == rules::Verdict::allow || decision.verdict == rules::Verdict::monitor) {
    return d;
  }
  auto answer_block = [&](const rules::Finding& f) {
    events_.set_action(f.rule_index, store::Action::kBlock);
    d.kind = ResponseDecision::Kind::answer;
    d.answer = block_answer(f, events_.uid_of(f.rule_index));
    return d;
  };
  if (decision.verdict == rules::Verdict::block) {
    return answer_block(found[*decision.deciding].finding);
  }
  std::vector<std::vector<rules::Finding>> per_piece(extracted.pieces.size());
  for (const Located& l : found) {
    if (l.finding.action != rules::Action::redact) continue;
    if (l.piece >= extracted.pieces.size() ||
        extracted.pieces[l.piece].span_kind != SpanKind::kJsonString) {
      return answer_block(l.finding);
    }
    per_piece[l.piece].push_back(l.finding);
  }
  std::vector<StringReplacement> replacements;
  for (std::size_t i = 0; i < per_piece.size(); ++i) {
    if (per_piece[i].empty()) continue;
    const TextPiece& p = extracted.pieces[i];
    auto text = redacted_text(p, per_piece[i]);
    if (!text) return answer_block(per_piece[i].front());
    replacements.push_back({p.span_begin, p.span_end, std::move(*text)});
  }
  auto rewritten = rewrite_json_strings(body, std::move(replacements));
  if (!rewritten.ok()) return answer_block(found[*decision.deciding].finding);
  d.kind = ResponseDecision::Kind::rewrite;
  d.body = std::move(*rewritten);
  // The logprobs of a redacted answer spell, token by token, what was redacted: withheld.
  std::string stripped;
  switch (null_members(d.body, "logprobs", stripped)) {
    case NullMembers::kNone:
      break;
    case NullMembers::kReplaced:
      d.body = std::move(stripped);
      break;
    case NullMembers::kUnreadable:
      return answer_block(found[*decision.deciding].finding);
  }
  return d;
}

StreamInspector* ExchangeInspector::start_stream(StreamFormat format, std::optional<Route> route) {
  if (!rules_) return nullptr;
  stream_ = std::make_unique<StreamInspector>(rules_, scanner_, route.value_or(facts_.route),
                                              format, policy_.holdback_bytes, events_);
  stream_->set_answer_dialect(facts_.route.dialect);
  return stream_.get();
}

}  // namespace edgeward::inspect
