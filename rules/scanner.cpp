// Block and stream scanning (scanner.hpp).

#include "rules/scanner.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <tuple>

#include "rules/compiled_internal.hpp"
#include "rules/gate_slices.hpp"
#include "rules/text_fold.hpp"
#include "rules/validators.hpp"

namespace edgeward::rules {

namespace {

// The match callback: record and continue. It must not allocate in steady state: raw_ keeps
// its capacity across scans, so it only grows when a text has more candidates than any before.
int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
             void* ctx) {
  static_cast<std::vector<RawMatch>*>(ctx)->push_back(RawMatch{id, from, to, to});
  return 0;
}

// Past this many pieces in one text the context-gated database scans the whole text (their
// slices would cover most of it anyway): a body of "passport passport …" must not cost memory
// in proportion to its size.
constexpr std::size_t kMaxContextHits = 1024;

// The match callback of a block database holding context literals (compiled_internal.hpp,
// ContextGate): patterns to `raw`, pieces of context words to `hits`.
struct BlockContext {
  std::vector<RawMatch>* raw;
  std::vector<std::pair<std::uint64_t, std::uint32_t>>* hits;
  bool* hits_overflow;
};
int on_block_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
                   void* ctx) {
  auto* c = static_cast<BlockContext*>(ctx);
  if (id >= kContextLiteralId) {
    if (c->hits->size() < kMaxContextHits) {
      c->hits->emplace_back(to, id - kContextLiteralId);
    } else {
      *c->hits_overflow = true;
    }
  } else {
    c->raw->push_back(RawMatch{id, from, to, to});
  }
  return 0;
}

// The same for a scan of the text from `offset` on (a gate's slice, or a later start). With
// `from_start_only`, only the matches that begin at `offset` are kept: their leftmost start is
// the first byte scanned.
struct OffsetContext {
  std::vector<RawMatch>* raw;
  std::uint64_t offset;
  bool from_start_only;
};
int on_offset_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int,
                    void* ctx) {
  auto* c = static_cast<OffsetContext*>(ctx);
  if (id >= kContextLiteralId) return 0;  // a context piece: only whole-text scans use them
  if (!c->from_start_only || from == 0) {
    c->raw->push_back(RawMatch{id, from + c->offset, to + c->offset, to + c->offset});
  }
  return 0;
}

bool is_word_byte(unsigned char c) {
  return std::isalnum(c) || c == '_';
}

// Whether `word` (lowercase; a single space matches any run of whitespace) is in `text` as a
// whole word starting at `i` and ending at or before `hi`, case-insensitively. Word boundaries
// are read in the whole text ("xpassport" is not the word passport, wherever a window begins);
// outside the text counts as a boundary.
bool word_at(std::string_view text, std::size_t i, std::size_t hi, std::string_view word) {
  if (word.empty()) return false;  // the pack loader refuses empty words; never read word[0]
  if (i > 0 && is_word_byte(static_cast<unsigned char>(text[i - 1])) &&
      is_word_byte(static_cast<unsigned char>(word[0]))) {
    return false;
  }
  std::size_t h = i, w = 0;
  while (w < word.size() && h < hi) {
    unsigned char hc = static_cast<unsigned char>(text[h]);
    if (!word_byte_matches(hc, word[w])) break;
    if (word[w] == ' ') {
      while (h < hi && std::isspace(static_cast<unsigned char>(text[h]))) ++h;
    } else {
      ++h;
    }
    ++w;
  }
  if (w != word.size()) return false;
  return !(h < text.size() && is_word_byte(static_cast<unsigned char>(text[h])) &&
           is_word_byte(static_cast<unsigned char>(word.back())));
}

// Whether any of `words` lies whole in text[lo, hi) (word_at). With an index, each byte tries
// only the words that can start there.
bool contains_any(std::string_view text, std::size_t lo, std::size_t hi,
                  const std::vector<std::string>& words, const WordIndex& index) {
  if (!index.usable) {
    for (const auto& w : words) {
      for (std::size_t i = lo; i < hi; ++i) {
        if (word_at(text, i, hi, w)) return true;
      }
    }
    return false;
  }
  for (std::size_t i = lo; i < hi; ++i) {
    for (std::uint64_t m = index.first[static_cast<unsigned char>(text[i])]; m; m &= m - 1) {
      if (word_at(text, i, hi, words[static_cast<std::size_t>(std::countr_zero(m))])) return true;
    }
  }
  return false;
}

bool near(std::string_view text, std::size_t start, std::size_t end, std::uint32_t within,
          const std::vector<std::string>& words, const WordIndex& index) {
  const std::size_t b = start > within ? start - within : 0;
  const std::size_t a = end + std::min<std::size_t>(within, text.size() - end);
  return contains_any(text, b, start, words, index) || contains_any(text, end, a, words, index);
}

// Compares a match with an allow-list entry (normalized: no whitespace, upper-cased) without
// building the normalized match. `grouped`: group separators are skipped on both sides
// (allow_ignores_grouping); else only whitespace, in the match.
bool equals_normalized(std::string_view match, std::string_view allowed, bool grouped) {
  auto skip = [&](std::string_view s, std::size_t i) -> std::size_t {
    if (grouped) return allow_separator_at(s, i);
    return i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) ? 1 : 0;
  };
  std::size_t i = 0, j = 0;
  for (;;) {
    while (std::size_t n = skip(match, i)) i += n;
    while (std::size_t n = grouped ? skip(allowed, j) : 0) j += n;
    if (i == match.size() || j == allowed.size()) return i == match.size() && j == allowed.size();
    if (std::toupper(static_cast<unsigned char>(match[i])) !=
        std::toupper(static_cast<unsigned char>(allowed[j]))) {
      return false;
    }
    ++i;
    ++j;
  }
}

bool is_allowed(const Rule& r, std::string_view text, std::uint64_t base, std::uint64_t from,
                std::uint64_t to) {
  if (from < base || to < from || to - base > text.size()) return false;
  std::string_view m =
      text.substr(static_cast<std::size_t>(from - base), static_cast<std::size_t>(to - from));
  const bool grouped = allow_ignores_grouping(r);
  for (const auto& allowed : r.allow) {
    if (equals_normalized(m, allowed, grouped)) return true;
  }
  return false;
}

// The `\b` assertions cut from the pattern (compiled_internal.hpp), checked on the text. Outside
// the text (its start, the end of data) counts as a non-word byte, as for Hyperscan.
bool boundaries_hold(const PatternEntry& e, std::string_view text, std::uint64_t base,
                     const RawMatch& m) {
  auto word_at = [&](std::uint64_t abs) {
    if (abs < base || abs >= base + text.size()) return false;
    return is_word_byte(static_cast<unsigned char>(text[static_cast<std::size_t>(abs - base)]));
  };
  if (e.boundary_start) {
    if (m.from == m.hs_to) return false;
    if (m.from > 0 && word_at(m.from - 1) == word_at(m.from)) return false;
    if (m.from == 0 && !word_at(0)) return false;
  }
  if (e.boundary_end) {
    if (m.hs_to == 0) return false;
    if (word_at(m.hs_to - 1) == word_at(m.hs_to)) return false;
  }
  return true;
}

// Code point boundaries: a UTF-8 continuation byte is 10xxxxxx.
bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

Finding make_finding(const CompiledRules& rules, std::uint32_t rule, std::uint64_t start,
                     std::uint64_t end, bool context) {
  Finding f = rules.finding_of(rule);
  f.start = start;
  f.end = end;
  f.context_matched = context;
  return f;
}

// Turns sorted candidates of one call into findings. `raw` is sorted by (rule, from, to desc).
// `ready(rule, from)` says whether a group may be decided now; undecided groups are kept in
// `keep` (stream mode). `progress` carries, per rule, what its findings so far leave for the
// next ones (stream mode: across calls).
//
// Hyperscan reports each match end once, with its leftmost start. A match that starts later
// and ends at the same place is a candidate too ("ref 2024 4539 1488 0343 6467": the card's
// end comes with the start of "2024", and that span fails Luhn). So after a group (rule, from)
// of a rule whose span Hyperscan reports, each later word boundary up to the group's longest
// end where one of the rule's patterns that begin with `\b` can begin (its first bytes) is
// scanned again with `rescan`, and what starts there is decided like a group of its own. A
// hidden match ends at a reported end of the group whose start is its end's leftmost one, so
// the group's own ends bound the search. Patterns without a leading `\b` are not searched
// again (their later starts are not word starts an attacker can put a prefix before).
// `rescan(start, limit, out)` scans the block databases again from one start: it appends every
// match that begins at `start` and ends at or before `limit` (absolute offsets) to `out`.
//
// A finding that overlaps the rule's previous one joins it: the rule reports their union, as
// redaction would cover it anyway (a consumer that judges a finding by where it starts and ends
// judges the union: exchange.cpp's glued parts scan a run again when one reads past it). A run a
// bounded pattern matches at every position (a flood of zero-width characters under `{2,32}`)
// otherwise gave one finding per character, and a stream that had to keep them all and hold its
// text until the run ended took superlinear time (a 256 KiB flood about 400 s). A union grows to
// kMaxPatternWidth at most, the widest a single match may be, so what a stream holds stays within
// the bounds a single match sets; past it, the overlapping finding starts where the previous one
// ends. In stream mode a finding that joins one reported by an earlier call is reported again,
// whole, with the same start.
template <class Ready, class Rescan>
Status decide_candidates(const CompiledRules& rules, std::uint8_t layer_bit, std::string_view text,
                         std::uint64_t base, std::vector<RawMatch>& raw, Ready ready,
                         std::vector<RuleProgress>* progress, std::vector<RawMatch>* keep,
                         Rescan&& rescan, std::vector<Finding>& out) {
  const CompiledRulesData& d = rules.data();
  std::size_t i = 0;
  std::uint32_t current_rule = UINT32_MAX;
  RuleProgress p;
  // The current rule's finding in `out` that a later one of this call joins, if any.
  std::size_t found_at = SIZE_MAX;
  auto save = [&](std::uint32_t rule) {
    if (progress) (*progress)[rule] = p;
  };
  // A window-model rule (an injection intent rule) whose model flagged the window of a cue at
  // `from` does not run it again for a cue of the same rule within kModelStride bytes after:
  // the rule has its finding there, and a text of attacks made of one cue word ("DAN.DAN.…")
  // otherwise ran the model at every word (a review measured 2 MB/s, an 8 MiB prompt holding a
  // worker for 10 s). Only after a flagged window: after a refused one, the next cue's window
  // reaches 64 bytes further and may hold the attack (a second review hid attacks behind a
  // benign cue that way). skip_to carries it, so a stream skips the same cues as a block.
  constexpr std::uint64_t kModelStride = 64;
  // Decides one group [b, e) of equal (rule, from), longest end first; true when it is a finding.
  auto decide_group = [&](std::uint32_t rule, const RawMatch* b, const RawMatch* e) {
    const std::uint64_t from = b->from;
    // b has the longest end of the group.
    if (from < p.skip_to && b->to <= p.skip_to) return false;
    // An allow-listed value at any end silences the whole group: its prefixes are not findings
    // either (an allowed webhook URL must not be reported one character shorter). Looked at
    // once the group has a candidate: every end against every allowed value, for every group,
    // was most of the cost of a body of digits (the card rule's allowed test numbers).
    bool allow_checked = d.pack.rules[rule].allow.empty();
    auto allowed = [&] {
      if (allow_checked) return false;
      allow_checked = true;
      for (const RawMatch* k = b; k < e; ++k) {
        if (is_allowed(d.pack.rules[rule], text, base, from, k->to)) return true;
      }
      return false;
    };
    for (const RawMatch *k = b, *run_end = b; k < e; k = run_end) {
      // Several patterns of the rule may report this same span (with their own cut `\b`s and,
      // for recovered spans, their own Hyperscan ends): it is a candidate if any of them holds,
      // whatever order the databases reported them in.
      bool bounded = false;
      for (run_end = k; run_end < e && run_end->to == k->to; ++run_end) {
        bounded = bounded || boundaries_hold(d.entries[run_end->id], text, base, *run_end);
      }
      if (!bounded) continue;
      bool context = false;
      if (!accept_candidate(rules, rule, text, base, from, k->to, context)) continue;
      if (allowed()) return false;
      const std::uint64_t to = k->to;
      // A match found by a later start's rescan is decided before the groups that start
      // between (rescans run ahead): one that starts before the finding's first match stays
      // one of its own.
      const bool joins = from >= p.found_from && from < p.found_end && to > p.found_end;
      if (joins) {
        if (to - p.found_start <= kMaxPatternWidth) {
          // Joins the previous finding: in place when this call reported it, else again whole.
          if (found_at != SIZE_MAX) {
            out[found_at].end = to;
            out[found_at].context_matched = out[found_at].context_matched || context;
          } else {
            found_at = out.size();
            out.push_back(make_finding(rules, rule, p.found_start, to, context));
            out.back().reported_again = true;
          }
          p.found_end = to;
          p.skip_to = std::max(p.skip_to, to);
          if (d.window_model[rule]) p.skip_to = std::max(p.skip_to, from + kModelStride);
          save(rule);
          return true;
        }
      }
      const std::uint64_t start = joins ? p.found_end : from;
      found_at = out.size();
      out.push_back(make_finding(rules, rule, start, to, context));
      p.found_from = from;
      p.found_start = start;
      p.found_end = to;
      p.skip_to = std::max(p.skip_to, to);
      if (d.window_model[rule]) p.skip_to = std::max(p.skip_to, from + kModelStride);
      save(rule);
      return true;
    }
    return false;
  };
  // Whether a pattern of `rule` can begin at absolute offset `at` of the text.
  auto may_start = [&](std::uint32_t rule, std::uint64_t at) {
    const auto c = static_cast<unsigned char>(text[static_cast<std::size_t>(at - base)]);
    const std::size_t local = static_cast<std::size_t>(at - base);
    if (at > base && is_word_byte(static_cast<unsigned char>(text[local - 1])) == is_word_byte(c)) {
      return false;  // the anchored patterns all begin with a cut `\b`
    }
    for (std::uint32_t id : d.rule_entries[rule]) {
      const PatternEntry& e = d.entries[id];
      if (e.span != SpanMode::match || !e.boundary_start) continue;
      bool fits = true;
      // match_at[k] holds for matches longer than k: only the shortest match's prefix counts.
      const std::size_t checked = std::min<std::size_t>(kCheckedPrefix, e.min_width);
      for (std::size_t k = 0; k < checked && local + k < text.size() && fits; ++k) {
        fits = e.match_at[k].test(static_cast<unsigned char>(text[local + k]));
      }
      if (fits) return true;
    }
    return false;
  };
  std::vector<RawMatch> hidden;
  while (i < raw.size()) {
    const std::uint32_t rule = d.entries[raw[i].id].rule;
    const std::uint64_t from = raw[i].from;
    std::size_t j = i;
    while (j < raw.size() && d.entries[raw[j].id].rule == rule && raw[j].from == from) ++j;
    if (!(d.rule_layers[rule] & layer_bit)) {
      i = j;
      continue;
    }
    if (!ready(rule, from)) {
      if (keep)
        keep->insert(keep->end(), raw.begin() + static_cast<std::ptrdiff_t>(i),
                     raw.begin() + static_cast<std::ptrdiff_t>(j));
      i = j;
      continue;
    }
    if (rule != current_rule) {
      current_rule = rule;
      p = progress ? (*progress)[rule] : RuleProgress{};
      found_at = SIZE_MAX;
    }
    decide_group(rule, raw.data() + i, raw.data() + j);
    const std::uint64_t longest = raw[i].to;
    if (d.entries[raw[i].id].span == SpanMode::match && !d.window_model[rule]) {
      const std::uint64_t text_end = base + text.size();
      for (std::uint64_t at = std::max(from + 1, p.skip_to); at < longest && at < text_end; ++at) {
        if (at < p.skip_to || !may_start(rule, at)) continue;
        // A hidden match from here ends at one of the group's ends; unless one of those spans
        // passes the rule's checks (validator, entropy, allow list, context), nothing from here
        // can be a finding, and the rescan is skipped.
        bool possible = false;
        for (std::size_t k = i; k < j && !possible; ++k) {
          bool context = false;
          possible = raw[k].to > at && (k == i || raw[k].to != raw[k - 1].to) &&
                     accept_candidate(rules, rule, text, base, at, raw[k].to, context);
        }
        if (!possible) continue;
        hidden.clear();
        // One byte past the longest end: a trailing assertion reads it.
        if (auto st = rescan(at, std::min(text_end, longest + 1), hidden); !st.ok()) return st;
        std::erase_if(hidden, [&](const RawMatch& m) {
          return d.entries[m.id].rule != rule || m.to > longest;
        });
        if (hidden.empty()) continue;
        std::sort(hidden.begin(), hidden.end(),
                  [](const RawMatch& a, const RawMatch& b) { return a.to > b.to; });
        decide_group(rule, hidden.data(), hidden.data() + hidden.size());
      }
    }
    i = j;
  }
  return ok_status();
}

// For patterns compiled without SOM, Hyperscan reports from == 0: recover the start (and trim
// the end) from the text as SpanMode says. `text` starts at absolute offset `base`.
void recover_spans(const CompiledRulesData& d, std::vector<RawMatch>& raw, std::string_view text,
                   std::uint64_t base) {
  for (RawMatch& m : raw) {
    const PatternEntry& e = d.entries[m.id];
    if (e.span == SpanMode::match) continue;
    const std::uint64_t lo_abs =
        std::max<std::uint64_t>(base, m.to > e.max_width ? m.to - e.max_width : 0);
    const std::size_t lo = static_cast<std::size_t>(lo_abs - base);
    std::size_t end = static_cast<std::size_t>(m.to - base);
    auto inside = e.span == SpanMode::token ? is_token_byte : is_url_byte;
    while (end > lo && !inside(text[end - 1]) && text[end - 1] != '=') --end;
    std::size_t start = end;
    if (e.span == SpanMode::token) {
      for (int pad = 0; pad < 2 && start > lo && text[start - 1] == '='; ++pad) --start;
    }
    while (start > lo &&
           (inside(text[start - 1]) || (e.span == SpanMode::url && text[start - 1] == '='))) {
      --start;
    }
    if (start == end) start = static_cast<std::size_t>(lo_abs - base);  // keep a non-empty span
    m.from = base + start;
    m.to = base + end;
  }
}

void sort_raw(const CompiledRulesData& d, std::vector<RawMatch>& raw) {
  std::sort(raw.begin(), raw.end(), [&](const RawMatch& a, const RawMatch& b) {
    std::uint32_t ra = d.entries[a.id].rule, rb = d.entries[b.id].rule;
    if (ra != rb) return ra < rb;
    if (a.from != b.from) return a.from < b.from;
    return a.to > b.to;
  });
}

void sort_findings(std::vector<Finding>& out, std::size_t first) {
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
            [](const Finding& a, const Finding& b) {
              if (a.priority != b.priority) return a.priority < b.priority;
              if (a.start != b.start) return a.start < b.start;
              return a.rule_index < b.rule_index;
            });
}

// How many of the last bytes seen may still be the start of a finding Hyperscan has not
// reported yet. Such a match ends at or after bytes_seen (Hyperscan reports a match once its
// last byte, and the byte after it for a trailing assertion, is scanned; `$` and `\Z` may leave
// a final newline, counted in the alphabet), so the text from its span's start to bytes_seen is
// a suffix of the form its entry's TailClass describes (compiled_internal.hpp), at most the
// entry's width long. The longest such suffix over the classes is what must be held.
// `text` is the retained history, ending at bytes_seen. Text before the stable offset already
// declared is final whatever it looks like: `cap` (bytes_seen - that offset) bounds the walks.
std::uint64_t tail_hold(std::string_view text, const TailTable& t, std::uint64_t cap) {
  std::uint64_t hold = 0;
  // Classes without a trail, all at once: `alive` holds the classes whose bytes (and width) the
  // walked suffix fits; a class may start a match at the walked position when its byte there and
  // the next ones are where a match of it can have them.
  const std::size_t words = t.words;
  std::array<std::uint64_t, 16> alive_small{};
  std::vector<std::uint64_t> alive_large;
  std::uint64_t* alive = alive_small.data();
  if (words > alive_small.size()) {
    alive_large.assign(words, 0);
    alive = alive_large.data();
  }
  for (std::size_t w = 0; w < words; ++w) alive[w] = ~std::uint64_t{0};
  const std::size_t limit = static_cast<std::size_t>(
      std::min<std::uint64_t>(std::min<std::uint64_t>(text.size(), t.max_width), cap));
  std::size_t next_width = 0;
  for (std::size_t run = 1; run <= limit; ++run) {
    for (; next_width < t.widths.size() && t.widths[next_width].first < run; ++next_width) {
      const std::uint32_t c = t.widths[next_width].second;
      alive[c / 64] &= ~(std::uint64_t{1} << (c % 64));
    }
    const std::size_t o = text.size() - run;
    const auto b = static_cast<unsigned char>(text[o]);
    std::uint64_t any_alive = 0, any_start = 0;
    for (std::size_t w = 0; w < words; ++w) {
      alive[w] &= t.bytes[b * words + w];
      any_alive |= alive[w];
      std::uint64_t start = alive[w];
      for (std::size_t k = 0; k < kCheckedPrefix && k < run && start; ++k) {
        start &= t.at[(k * 256 + static_cast<unsigned char>(text[o + k])) * words + w];
      }
      any_start |= start;
    }
    if (any_start) hold = run;
    if (!any_alive) break;
  }
  // Token/url classes: a trail run, then a run of span bytes from any of which a span may start.
  for (const TailClass& c : t.trailing) {
    const std::size_t lim = static_cast<std::size_t>(
        std::min<std::uint64_t>(std::min<std::uint64_t>(text.size(), c.max_width), cap));
    if (lim <= hold) continue;
    std::size_t run = 0;
    // The trail and the span bytes are disjoint: the greedy split is the only one.
    while (run < lim && c.trail.test(static_cast<unsigned char>(text[text.size() - 1 - run]))) {
      ++run;
    }
    std::uint64_t start = run;  // a span recovered at the width bound may start in the trail
    while (run < lim) {
      const auto b = static_cast<unsigned char>(text[text.size() - 1 - run]);
      if (!c.bytes.test(b)) break;
      ++run;
      if (c.first.test(b)) start = run;
    }
    hold = std::max(hold, start);
  }
  return hold;
}

}  // namespace

bool accept_candidate(const CompiledRules& rules, std::uint32_t rule_index, std::string_view text,
                      std::uint64_t base, std::uint64_t from, std::uint64_t to,
                      bool& context_matched) {
  const Rule& r = rules.rule(rule_index);
  if (from < base || to - base > text.size() || from > to) return false;
  const std::size_t s = static_cast<std::size_t>(from - base);
  const std::size_t e = static_cast<std::size_t>(to - base);
  std::string_view m = text.substr(s, e - s);
  if (r.detect.min_entropy > 0 && shannon_entropy(m) < r.detect.min_entropy) return false;
  if (r.detect.validator && !validate(*r.detect.validator, text, s, e)) return false;
  const bool grouped = allow_ignores_grouping(r);
  for (const auto& allowed : r.allow) {
    if (equals_normalized(m, allowed, grouped)) return false;
  }
  context_matched = false;
  if (r.detect.context) {
    const ContextSpec& c = *r.detect.context;
    const ContextIndex& index = rules.data().rule_context[rule_index];
    if (!c.exclude.empty() && near(text, s, e, c.within, c.exclude, index.exclude)) return false;
    context_matched = !c.words.empty() && near(text, s, e, c.within, c.words, index.words);
    if (c.required && !context_matched) return false;
  }
  return true;
}

// --- Scanner -------------------------------------------------------------------------------

Scanner::Scanner() {
  raw_.reserve(1024);
}

Scanner::~Scanner() {
  if (scratch_) hs_free_scratch(scratch_);
}

Scanner::Scanner(Scanner&& o) noexcept
    : scratch_(o.scratch_),
      prepared_generation_(o.prepared_generation_),
      raw_(std::move(o.raw_)),
      slices_(std::move(o.slices_)),
      context_hits_(std::move(o.context_hits_)),
      context_slices_(std::move(o.context_slices_)),
      folded_(std::move(o.folded_)),
      folded_findings_(std::move(o.folded_findings_)),
      cache_(std::move(o.cache_)) {
  o.scratch_ = nullptr;
  o.prepared_generation_ = 0;
}

Scanner& Scanner::operator=(Scanner&& o) noexcept {
  if (this != &o) {
    if (scratch_) hs_free_scratch(scratch_);
    scratch_ = o.scratch_;
    prepared_generation_ = o.prepared_generation_;
    raw_ = std::move(o.raw_);
    slices_ = std::move(o.slices_);
    context_hits_ = std::move(o.context_hits_);
    context_slices_ = std::move(o.context_slices_);
    folded_ = std::move(o.folded_);
    folded_findings_ = std::move(o.folded_findings_);
    cache_ = std::move(o.cache_);
    o.scratch_ = nullptr;
    o.prepared_generation_ = 0;
  }
  return *this;
}

Status Scanner::prepare(const CompiledRules& rules) {
  if (prepared_generation_ == rules.generation()) return ok_status();
  const CompiledRulesData& d = rules.data();
  if (!scratch_) {
    if (d.prototype && hs_clone_scratch(d.prototype.get(), &scratch_) != HS_SUCCESS) {
      scratch_ = nullptr;
      return make_error("rules.scratch_failed", "hs_clone_scratch failed");
    }
  } else {
    // A new rule set (after a reload): grow this thread's scratch to fit its databases too.
    // Older sets still in use by in-flight requests keep fitting: scratch only grows.
    for (const auto& db : d.dbs) {
      for (const hs_database_t* h : hs_databases(db)) {
        if (h && hs_alloc_scratch(h, &scratch_) != HS_SUCCESS) {
          return make_error("rules.scratch_failed", "hs_alloc_scratch failed");
        }
      }
    }
  }
  prepared_generation_ = rules.generation();
  return ok_status();
}

namespace {
// Whether `text` is short ASCII without two spaces or tabs in a row: then it holds neither a
// hidden character (all of them are beyond ASCII) nor a run between words, and asks for no
// second look. Most texts of a request are short (a model name, a URL, a tool's name); this
// costs a few instructions a byte where the two full tests cost ~300 per text.
bool plain_short_text(std::string_view text) {
  if (text.size() > 128) return false;
  bool space = false;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
    const bool s = c == ' ' || c == '\t';
    if (s && space) return false;
    space = s;
  }
  return true;
}
}  // namespace

// Bytes of folded text a Scanner keeps between calls (its offset arrays hold 8 more per byte).
constexpr std::size_t kKeptFoldBytes = 256 * 1024;

Status Scanner::scan(const CompiledRules& rules, Scope scope, Surface surface, Layer layer,
                     std::string_view text, std::vector<Finding>& out) {
  const CompiledRulesData& d = rules.data();
  std::array<int, kMaxSlotDbs> dbs{};
  const int n = d.slot_dbs(slot_of(scope, surface), dbs);
  if (n == 0 || text.empty()) return ok_status();
  CachedScan* cached = nullptr;
  if (text.size() <= kCachedTextBytes) {
    if (cache_.empty()) cache_.resize(kCachedTexts);
    const std::size_t key =
        (static_cast<std::size_t>(slot_of(scope, surface)) << 2) | static_cast<std::size_t>(layer);
    cached = &cache_[(std::hash<std::string_view>{}(text) ^ (key * 0x9E3779B97F4A7C15ull)) %
                     kCachedTexts];
    if (cached->generation == rules.generation() && cached->scope == scope &&
        cached->surface == surface && cached->layer == layer && cached->text == text) {
      out.insert(out.end(), cached->findings.begin(), cached->findings.end());
      return ok_status();
    }
  }
  const std::size_t first = out.size();
  if (auto s = scan_uncached(rules, dbs, n, scope, layer, text, out); !s.ok()) {
    if (cached != nullptr) cached->generation = 0;
    return s;
  }
  if (cached != nullptr) {
    cached->generation = rules.generation();
    cached->scope = scope;
    cached->surface = surface;
    cached->layer = layer;
    cached->text.assign(text);
    cached->findings.assign(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  }
  return ok_status();
}

Status Scanner::scan_uncached(const CompiledRules& rules, const std::array<int, kMaxSlotDbs>& dbs,
                              int n, Scope scope, Layer layer, std::string_view text,
                              std::vector<Finding>& out) {
  if (auto s = prepare(rules); !s.ok()) return s;
  const std::size_t first = out.size();
  if (auto s = scan_block(rules, dbs, n, layer, text, out); !s.ok()) return s;
  // Responses keep their spaces: a stream folds delta by delta, and must find what the block
  // scan of the same text finds (docs/rules.md).
  const Spaces spaces = scope == Scope::request ? Spaces::kCollapse : Spaces::kKeep;
  folded_findings_.clear();
  if (plain_short_text(text)) return ok_status();
  if (has_hidden_characters(text)) {
    if (auto s = scan_folded(rules, dbs, n, layer, text, spaces); !s.ok()) return s;
  } else if (spaces == Spaces::kCollapse) {
    if (auto s = scan_spaced(rules, dbs, n, layer, text); !s.ok()) return s;
  }
  // A large text's folded copy (9 bytes per byte), and the list of its runs, are not kept for
  // the next, small one.
  if (folded_.text.capacity() > kKeptFoldBytes) folded_ = FoldedText{};
  if (spaced_runs_.capacity() > kKeptFoldBytes / sizeof(std::uint64_t)) spaced_runs_ = {};
  if (folded_findings_.empty()) return ok_status();
  const std::size_t own = out.size();
  // What the unfolded scan found, sorted, to look each folded finding up in (a text of many
  // matches and one zero-width space must not cost their product).
  using Key = std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>;
  thread_local std::vector<Key> seen;
  seen.clear();
  for (std::size_t i = first; i < own; ++i) {
    seen.emplace_back(out[i].rule_index, out[i].start, out[i].end);
  }
  std::sort(seen.begin(), seen.end());
  for (const Finding& f : folded_findings_) {
    if (!std::binary_search(seen.begin(), seen.end(), Key{f.rule_index, f.start, f.end})) {
      out.push_back(f);
    }
  }
  if (out.size() != own) sort_findings(out, first);
  if (seen.capacity() > kKeptFoldBytes / sizeof(Key)) seen = {};
  return ok_status();
}

namespace {

// What validators read around a match beyond the reach (SpacedReach, compiled_internal.hpp).
constexpr std::size_t kSliceSlack = 256;

// The reach of the slot's databases together: the widest narrow and wide reaches, and every
// byte that starts a wide entry's match (an entry of one database on the wide side whose reach
// is below the other's narrow one is looked for needlessly, never missed).
SpacedReach spaced_reach(const CompiledRulesData& d, const std::array<int, kMaxSlotDbs>& dbs,
                         int n) {
  SpacedReach r;
  for (int k = 0; k < n; ++k) {
    const SpacedReach& db =
        d.dbs[static_cast<std::size_t>(dbs[static_cast<std::size_t>(k)])].spaced;
    r.narrow = std::max(r.narrow, db.narrow);
    r.wide = std::max(r.wide, db.wide);
    r.wide_first[0] |= db.wide_first[0];
    r.wide_first[1] |= db.wide_first[1];
  }
  r.narrow += kSliceSlack;
  r.wide += kSliceSlack;
  return r;
}

// Whether text[from, to) holds a byte that may begin a wide entry's match: one of `r`'s, or any
// byte >= 0x80 (the fold turns fullwidth `！` into `!`, and drops what renders as nothing). The
// high bits are or-ed 8 bytes at a time, and each of the few starting bytes is a memchr.
bool wide_start_in(std::string_view text, std::size_t from, std::size_t to, const SpacedReach& r) {
  const char* p = text.data() + from;
  const std::size_t n = to - from;
  std::uint64_t high = 0;
  std::size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + k, 8);
    high |= word;
  }
  for (; k < n; ++k) high |= static_cast<unsigned char>(p[k]);
  if ((high & 0x8080808080808080ull) != 0) return true;
  for (std::size_t w = 0; w < r.wide_first.size(); ++w) {
    for (std::uint64_t bits = r.wide_first[w]; bits != 0; bits &= bits - 1) {
      const int c = static_cast<int>(w * 64) + __builtin_ctzll(bits);
      if (std::memchr(p, c, n) != nullptr) return true;
    }
  }
  return false;
}

}  // namespace

Status Scanner::scan_folded(const CompiledRules& rules, const std::array<int, kMaxSlotDbs>& dbs,
                            int n, Layer layer, std::string_view text, Spaces spaces) {
  if (!fold_hidden_characters(text, folded_, spaces)) return ok_status();
  return scan_piece(rules, dbs, n, layer, 0, text.size(), text.size(), nullptr);
}

Status Scanner::scan_piece(const CompiledRules& rules, const std::array<int, kMaxSlotDbs>& dbs,
                           int n, Layer layer, std::size_t from, std::size_t to,
                           std::size_t text_size, bool* cut) {
  slice_findings_.clear();
  if (auto s = scan_block(rules, dbs, n, layer, folded_.text, slice_findings_); !s.ok()) return s;
  const std::size_t size = folded_.text.size();
  const CompiledRulesData& d = rules.data();
  for (const Finding& f : slice_findings_) {
    if (f.end <= f.start || f.end > size) continue;
    if (cut != nullptr) {
      // A slice's finding counts only when a collapsed run lies in or next to it or its context
      // window: elsewhere the slice holds the raw text's bytes, which the raw scan judged with
      // all of its context (a cut edge may have hidden an `exclude` word: a review's false
      // positive).
      const std::uint64_t within = d.rule_within[f.rule_index] + 1;
      const std::uint64_t lo = f.start > within ? f.start - within : 0;
      const auto near = std::lower_bound(spaced_runs_.begin(), spaced_runs_.end(), lo);
      if (near == spaced_runs_.end() || *near >= f.end + within) continue;
    }
    // A match at a cut edge may run on past it, or be one only because the cut made a word
    // shorter: the caller scans the whole text instead.
    if (cut != nullptr && ((f.start == 0 && from > 0) || (f.end == size && to < text_size))) {
      *cut = true;
      return ok_status();
    }
    Finding g = f;
    g.start = from + folded_.begin[static_cast<std::size_t>(f.start)];
    g.end = from + folded_.end[static_cast<std::size_t>(f.end - 1)];
    folded_findings_.push_back(g);
  }
  return ok_status();
}

Status Scanner::scan_spaced(const CompiledRules& rules, const std::array<int, kMaxSlotDbs>& dbs,
                            int n, Layer layer, std::string_view text) {
  const std::size_t size = text.size();
  SpacedRun run = next_spaced_run(text, 0);
  if (run.begin == std::string_view::npos) return ok_status();
  const SpacedReach reach = spaced_reach(rules.data(), dbs, n);
  // A slice reaches a sixteenth more than its reach past its runs, then on to white space (at
  // most kSliceSlack more bytes) so that it cuts no word, and never inside a UTF-8 sequence.
  // Folding shortens what it collapses or drops: the reach is checked again on the folded slice
  // below (a shortfall sends the whole text to the second scan).
  const auto raw = [](std::size_t r) { return r + r / 16; };
  const std::size_t raw_wide = raw(reach.wide);
  const auto word_byte = [&](std::size_t k) {
    const auto c = static_cast<unsigned char>(text[k]);
    return c != ' ' && c != '\t' && c != '\n' && c != '\r';
  };
  const auto continuation = [&](std::size_t k) {
    return (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80;
  };
  const auto back = [&](std::size_t at, std::size_t limit, std::size_t raw_reach) {
    at = at > limit + raw_reach ? at - raw_reach : limit;
    for (std::size_t k = 0; at > limit && k < kSliceSlack && word_byte(at - 1); ++k) --at;
    while (at > limit && continuation(at)) --at;
    return at;
  };
  const auto forth = [&](std::size_t at, std::size_t raw_reach) {
    at = size - at > raw_reach ? at + raw_reach : size;
    for (std::size_t k = 0; at < size && k < kSliceSlack && word_byte(at); ++k) ++at;
    while (at < size && continuation(at)) ++at;
    return at;
  };
  // The slices. Runs are grouped with the wide reach: every run that begins before the wide
  // reach past the group's last one joins it (a review found a second run inside a slice, its
  // phrase cut at the slice's end, missed). A group's slice then reaches only the narrow reach
  // when no wide entry's match can hold one of its runs: no byte that begins one lies within the
  // wide reach before any of them, and that stretch is ASCII whose runs fold away at most a
  // sixteenth of it (so it still spans the wide reach once folded; before the group's first run
  // there is none: groups lie the wide reach apart). A slice whose reach back runs into the one
  // before it of the same reach joins it (one Hyperscan call costs a fixed ~4k instructions).
  // Slices of different reaches may overlap, yet find nothing twice: a slice's finding counts
  // only near its own runs (within its rule's context window), and groups lie farther apart
  // than any match and two windows reach.
  spaced_slices_.clear();
  while (run.begin != std::string_view::npos) {
    const std::size_t first = run.begin;
    std::size_t last = run.end;
    std::size_t shrink = run.end - run.begin - 1;
    for (std::size_t wide_to = forth(run.end, raw_wide);;) {
      const std::size_t from = run.end;
      run = next_spaced_run(text, from);
      if (run.begin < from) {
        // Never: each run lies after the one before (text_fold.hpp). Should that break, the
        // whole text decides rather than a loop that does not end.
        folded_findings_.clear();
        return scan_folded(rules, dbs, n, layer, text, Spaces::kCollapse);
      }
      if (run.begin == std::string_view::npos || run.begin >= wide_to) break;
      last = run.end;
      shrink += run.end - run.begin - 1;
      wide_to = forth(run.end, raw_wide);
    }
    const bool narrow = reach.narrow < reach.wide && shrink <= reach.wide / 16 &&
                        !wide_start_in(text, first > raw_wide ? first - raw_wide : 0,
                                       std::min(size, last + 4), reach);
    const std::size_t slice_reach = narrow ? reach.narrow : reach.wide;
    SpacedSlice* prev = spaced_slices_.empty() ? nullptr : &spaced_slices_.back();
    const bool same = prev != nullptr && prev->reach == slice_reach;
    const std::size_t from = back(first, same ? prev->to : 0, raw(slice_reach));
    const std::size_t to = forth(last, raw(slice_reach));
    if (same && from == prev->to) {
      prev->to = to;
      prev->last = last;
      continue;
    }
    spaced_slices_.push_back({from, to, first, last, slice_reach});
  }
  bool cut = false;
  for (const SpacedSlice& slice : spaced_slices_) {
    const std::string_view raw_slice = text.substr(slice.from, slice.to - slice.from);
    if (!fold_hidden_characters(raw_slice, folded_, Spaces::kCollapse)) return ok_status();
    // Where a byte of the slice sits in the folded slice.
    const auto folded_at = [&](std::size_t at) {
      const auto offset = static_cast<std::uint32_t>(at - slice.from);
      return static_cast<std::size_t>(
          std::lower_bound(folded_.begin.begin(), folded_.begin.end(), offset) -
          folded_.begin.begin());
    };
    const std::size_t first_at = folded_at(slice.first);
    const std::size_t last_at = folded_at(slice.last);
    // The slice's first and last runs must each keep its reach in folded bytes to a cut edge, or
    // the whole text decides.
    if ((slice.from > 0 && first_at < slice.reach) ||
        (slice.to < size && folded_.text.size() - last_at < slice.reach)) {
      cut = true;
      break;
    }
    // The collapsed runs of the folded slice from its first run to its last (those have the
    // slice's reach on both sides): a space standing for other bytes than one space.
    const auto runs_to = static_cast<std::uint32_t>(slice.last - slice.from);
    spaced_runs_.clear();
    for (std::size_t k = first_at; k < last_at; ++k) {
      if (folded_.text[k] == ' ' && folded_.end[k] <= runs_to &&
          (folded_.end[k] - folded_.begin[k] != 1 || raw_slice[folded_.begin[k]] != ' ')) {
        spaced_runs_.push_back(k);
      }
    }
    if (auto s = scan_piece(rules, dbs, n, layer, slice.from, slice.to, size, &cut); !s.ok()) {
      return s;
    }
    if (cut) break;
  }
  if (!cut) return ok_status();
  folded_findings_.clear();
  return scan_folded(rules, dbs, n, layer, text, Spaces::kCollapse);
}

Status Scanner::scan_block(const CompiledRules& rules, const std::array<int, kMaxSlotDbs>& dbs,
                           int n, Layer layer, std::string_view text, std::vector<Finding>& out) {
  const CompiledRulesData& d = rules.data();
  raw_.clear();
  for (int k = 0; k < n; ++k) {
    const Database& db = d.dbs[static_cast<std::size_t>(dbs[static_cast<std::size_t>(k)])];
    if (text.size() <= kShortText && db.short_text.usable && !db.short_text.may_match(text)) {
      continue;
    }
    context_hits_.clear();
    context_overflow_ = false;
    if (db.block) {
      BlockContext ctx{&raw_, &context_hits_, &context_overflow_};
      hs_error_t rc = hs_scan(db.block.get(), text.data(), static_cast<unsigned>(text.size()), 0,
                              scratch_, on_block_match, &ctx);
      if (rc != HS_SUCCESS) {
        return make_error("rules.scan_failed", "hs_scan failed with code " + std::to_string(rc));
      }
    }
    if (auto s = scan_gated(db, text); !s.ok()) return s;
    if (auto s = scan_context(db, text); !s.ok()) return s;
  }
  if (raw_.empty()) return ok_status();
  recover_spans(d, raw_, text, 0);
  sort_raw(d, raw_);
  const std::size_t first = out.size();
  const auto layer_bit = static_cast<std::uint8_t>(1u << static_cast<int>(layer));
  auto rescan = [&](std::uint64_t start, std::uint64_t limit, std::vector<RawMatch>& found) {
    return scan_from(d, dbs, n, text, 0, start, limit, found);
  };
  auto st = decide_candidates(
      rules, layer_bit, text, 0, raw_, [](std::uint32_t, std::uint64_t) { return true; }, nullptr,
      nullptr, rescan, out);
  sort_findings(out, first);
  return st;
}

Status Scanner::scan_from(const CompiledRulesData& d, const std::array<int, kMaxSlotDbs>& dbs,
                          int n, std::string_view text, std::uint64_t base, std::uint64_t start,
                          std::uint64_t limit, std::vector<RawMatch>& found) {
  OffsetContext ctx{&found, start, true};
  const char* data = text.data() + (start - base);
  const auto len = static_cast<unsigned>(limit - start);
  for (int k = 0; k < n; ++k) {
    const Database& db = d.dbs[static_cast<std::size_t>(dbs[static_cast<std::size_t>(k)])];
    std::array<const hs_database_t*, 2 + kGateCount> block{db.block.get()};
    for (int g = 0; g < kGateCount; ++g) {
      block[static_cast<std::size_t>(1 + g)] = db.gated[static_cast<std::size_t>(g)].block.get();
    }
    block[1 + kGateCount] = db.context.block.get();
    for (const hs_database_t* h : block) {
      if (!h) continue;
      hs_error_t rc = hs_scan(h, data, len, 0, scratch_, on_offset_match, &ctx);
      if (rc != HS_SUCCESS) {
        return make_error("rules.scan_failed", "hs_scan failed with code " + std::to_string(rc));
      }
    }
  }
  return ok_status();
}

Status Scanner::scan_gated(const Database& db, std::string_view text) {
  std::array<SliceSpec, kGateCount> specs;
  std::array<const GatedDatabase*, kGateCount> gated{};
  std::size_t count = 0;
  for (std::size_t g = 0; g < kGates.size(); ++g) {
    if (!db.gated[g].block) continue;
    specs[count] =
        SliceSpec{kGates[g].lo, kGates[g].hi, db.gated[g].min_run, db.gated[g].width, &slices_[g]};
    gated[count++] = &db.gated[g];
  }
  if (count == 0) return ok_status();
  gate_slices(text, std::span<const SliceSpec>(specs.data(), count));
  for (std::size_t c = 0; c < count; ++c) {
    std::vector<TextSlice>& slices = *specs[c].out;
    // Slices covering most of the text: one call over all of it costs less.
    std::size_t covered = 0;
    for (const TextSlice& sl : slices) covered += sl.end - sl.begin;
    if (covered > text.size() / 2 + text.size() / 4) slices.assign(1, TextSlice{0, text.size()});
    for (const TextSlice& sl : slices) {
      OffsetContext ctx{&raw_, sl.begin, false};
      hs_error_t rc =
          hs_scan(gated[c]->block.get(), text.data() + sl.begin,
                  static_cast<unsigned>(sl.end - sl.begin), 0, scratch_, on_offset_match, &ctx);
      if (rc != HS_SUCCESS) {
        return make_error("rules.scan_failed", "hs_scan failed with code " + std::to_string(rc));
      }
    }
  }
  return ok_status();
}

Status Scanner::scan_context(const Database& db, std::string_view text) {
  if (!db.context.block || context_hits_.empty()) return ok_status();
  context_slices_.clear();
  for (const auto& [end, k] : context_hits_) {
    const std::uint64_t reach = db.context.reach[k];
    const std::uint64_t start = end - db.context.literals[k].size();
    context_slices_.push_back(
        TextSlice{static_cast<std::size_t>(start > reach ? start - reach : 0),
                  static_cast<std::size_t>(std::min<std::uint64_t>(text.size(), end + reach))});
  }
  // Hyperscan reports in end order per engine, not across engines, and reaches differ.
  std::sort(context_slices_.begin(), context_slices_.end(),
            [](const TextSlice& a, const TextSlice& b) { return a.begin < b.begin; });
  std::size_t kept = 0;
  for (const TextSlice& sl : context_slices_) {
    if (kept > 0 && sl.begin <= context_slices_[kept - 1].end + kSliceMergeGap) {
      context_slices_[kept - 1].end = std::max(context_slices_[kept - 1].end, sl.end);
    } else {
      context_slices_[kept++] = sl;
    }
  }
  context_slices_.resize(kept);
  if (context_overflow_) context_slices_.assign(1, TextSlice{0, text.size()});
  std::size_t covered = 0;
  for (const TextSlice& sl : context_slices_) covered += sl.end - sl.begin;
  if (covered > text.size() / 2 + text.size() / 4)
    context_slices_.assign(1, TextSlice{0, text.size()});
  for (const TextSlice& sl : context_slices_) {
    OffsetContext ctx{&raw_, sl.begin, false};
    hs_error_t rc =
        hs_scan(db.context.block.get(), text.data() + sl.begin,
                static_cast<unsigned>(sl.end - sl.begin), 0, scratch_, on_offset_match, &ctx);
    if (rc != HS_SUCCESS) {
      return make_error("rules.scan_failed", "hs_scan failed with code " + std::to_string(rc));
    }
  }
  return ok_status();
}

Result<ScanStream> Scanner::open_stream(std::shared_ptr<const CompiledRules> rules, Scope scope,
                                        Surface surface, Layer layer) {
  if (scope != Scope::response) {
    return make_error("rules.no_stream_database",
                      "stream scanning is compiled for the response scope only");
  }
  ScanStream s;
  const CompiledRulesData& d = rules->data();
  s.slot_ = slot_of(scope, surface);
  std::array<int, kMaxSlotDbs> dbs{};
  s.db_count_ = d.slot_dbs(s.slot_, dbs);
  s.layer_bit_ = static_cast<std::uint8_t>(1u << static_cast<int>(layer));
  s.tails_ = static_cast<std::size_t>(s.slot_ * kLayerCount + static_cast<int>(layer));
  s.progress_.assign(d.pack.rules.size(), RuleProgress{});
  if (s.db_count_ > 0) {
    if (auto st = prepare(*rules); !st.ok()) return st.error();
    for (int k = 0; k < s.db_count_; ++k) {
      hs_stream_t* raw = nullptr;
      if (hs_open_stream(
              d.dbs[static_cast<std::size_t>(dbs[static_cast<std::size_t>(k)])].stream.get(), 0,
              &raw) != HS_SUCCESS) {
        return make_error("rules.scan_failed", "hs_open_stream failed");  // s frees the others
      }
      s.streams_[k] = raw;
    }
  }
  s.rules_ = std::move(rules);
  return s;
}

Status Scanner::feed(ScanStream& s, std::string_view chunk, std::vector<Finding>& out) {
  if (s.finished_) return make_error("rules.stream_finished", "feed after finish");
  if (s.db_count_ == 0) {
    s.bytes_seen_ += chunk.size();
    s.stable_ = s.bytes_seen_;
    return ok_status();
  }
  if (auto st = prepare(*s.rules_); !st.ok()) return st;
  s.history_.append(chunk);
  raw_.clear();
  for (int k = 0; k < s.db_count_ && !chunk.empty(); ++k) {
    hs_error_t rc = hs_scan_stream(s.streams_[k], chunk.data(), static_cast<unsigned>(chunk.size()),
                                   0, scratch_, on_match, &raw_);
    if (rc != HS_SUCCESS) {
      return make_error("rules.scan_failed",
                        "hs_scan_stream failed with code " + std::to_string(rc));
    }
  }
  s.bytes_seen_ += chunk.size();
  return process_stream(s, false, out);
}

Status Scanner::finish(ScanStream& s, std::vector<Finding>& out) {
  if (s.finished_) return ok_status();
  raw_.clear();
  if (s.db_count_ > 0) {
    if (auto st = prepare(*s.rules_); !st.ok()) return st;
  }
  for (int k = 0; k < s.db_count_; ++k) {
    if (!s.streams_[k]) continue;
    hs_error_t rc = hs_close_stream(s.streams_[k], scratch_, on_match, &raw_);
    s.streams_[k] = nullptr;
    if (rc != HS_SUCCESS) {
      s.release();
      return make_error("rules.scan_failed",
                        "hs_close_stream failed with code " + std::to_string(rc));
    }
  }
  s.finished_ = true;
  if (s.db_count_ == 0) return ok_status();
  return process_stream(s, true, out);
}

std::uint64_t ScanStream::pending_start() const {
  std::uint64_t start = bytes_seen_;
  for (const RawMatch& m : pending_) start = std::min(start, m.from);
  return start;
}

Status Scanner::process_stream(ScanStream& s, bool final, std::vector<Finding>& out) {
  const CompiledRulesData& d = s.rules_->data();
  const auto [max_width, max_within] = d.slot_widths(s.slot_);
  // New candidates join the pending ones; a group (rule, from) is decided once no longer end can
  // still be reported for it and its trailing context window has arrived.
  recover_spans(d, raw_, s.history_, s.history_base_);
  raw_.insert(raw_.end(), s.pending_.begin(), s.pending_.end());
  s.pending_.clear();
  sort_raw(d, raw_);
  const std::uint64_t seen = s.bytes_seen_;
  auto ready = [&](std::uint32_t rule, std::uint64_t from) {
    return final || seen >= from + d.rule_max_width[rule] + d.rule_within[rule] + 2;
  };
  const std::size_t first = out.size();
  std::array<int, kMaxSlotDbs> dbs{};
  const int n = d.slot_dbs(s.slot_, dbs);
  auto rescan = [&](std::uint64_t start, std::uint64_t limit, std::vector<RawMatch>& found) {
    return scan_from(d, dbs, n, s.history_, s.history_base_, start, limit, found);
  };
  auto st = decide_candidates(*s.rules_, s.layer_bit_, s.history_, s.history_base_, raw_, ready,
                              &s.progress_, &s.pending_, rescan, out);
  sort_findings(out, first);
  if (!st.ok()) return st;

  if (final) {
    s.stable_ = seen;
    s.history_.clear();
    s.history_base_ = seen;
    s.reported_.clear();
    return ok_status();
  }
  // Stable offset: before any match that may still be reported. One Hyperscan has reported is
  // pending until decided (its trailing context window included)...
  const std::uint64_t horizon = static_cast<std::uint64_t>(max_width) + 2;
  std::uint64_t stable = seen - tail_hold(s.history_, d.stream_tails[s.tails_], seen - s.stable_);
  for (const RawMatch& m : s.pending_) stable = std::min(stable, m.from);
  stable = std::max(stable, s.history_base_);
  // ... on a code point boundary (redaction snaps spans outward to whole code points) ...
  auto snap_down = [&](std::uint64_t off) {
    while (off > s.history_base_ && off < seen &&
           is_continuation(s.history_[static_cast<std::size_t>(off - s.history_base_)])) {
      --off;
    }
    return off;
  };
  stable = snap_down(stable);
  // ... and not inside a finding already reported.
  for (std::size_t k = first; k < out.size(); ++k) {
    // A finding reported again grows its span (at most one per rule and call: no list walk for
    // the others, so a call of many findings stays linear).
    auto grown = s.reported_.end();
    if (out[k].reported_again) {
      grown = std::find_if(s.reported_.begin(), s.reported_.end(),
                           [&](const auto& span) { return span.first == out[k].start; });
    }
    if (grown != s.reported_.end()) {
      grown->second = std::max(grown->second, out[k].end);
    } else {
      s.reported_.emplace_back(out[k].start, out[k].end);
    }
  }
  bool moved = true;
  while (moved) {
    moved = false;
    for (const auto& [b, e] : s.reported_) {
      if (b < stable && stable < e) {
        stable = snap_down(std::max(b, s.history_base_));
        moved = true;
      }
    }
  }
  std::erase_if(s.reported_, [&](const auto& span) { return span.second <= stable; });
  s.stable_ = std::max(s.stable_, stable);

  // Drop history nobody can need again: validators and context look at most max_within bytes
  // (+ a few for boundary checks) before a candidate's start.
  std::uint64_t keep = seen > horizon + max_within + 8 ? seen - horizon - max_within - 8 : 0;
  for (const RawMatch& m : s.pending_) {
    std::uint64_t need = m.from > max_within + 8 ? m.from - max_within - 8 : 0;
    keep = std::min(keep, need);
  }
  keep = std::min(keep, s.stable_);
  if (keep > s.history_base_ && keep - s.history_base_ >= 4096 &&
      keep - s.history_base_ >= s.history_.size() / 2) {
    s.history_.erase(0, static_cast<std::size_t>(keep - s.history_base_));
    s.history_base_ = keep;
  }
  return ok_status();
}

void grow_or_add(std::vector<Finding>& findings, const Finding& f) {
  if (!f.reported_again) {
    findings.push_back(f);
    return;
  }
  for (auto it = findings.rbegin(); it != findings.rend(); ++it) {
    if (it->rule_index == f.rule_index && it->start == f.start) {
      it->end = std::max(it->end, f.end);
      it->context_matched = it->context_matched || f.context_matched;
      return;
    }
  }
  findings.push_back(f);
}

// --- ScanStream ----------------------------------------------------------------------------

ScanStream::ScanStream(ScanStream&& o) noexcept {
  *this = std::move(o);
}

ScanStream& ScanStream::operator=(ScanStream&& o) noexcept {
  if (this != &o) {
    release();
    rules_ = std::move(o.rules_);
    slot_ = o.slot_;
    db_count_ = o.db_count_;
    layer_bit_ = o.layer_bit_;
    tails_ = o.tails_;
    for (int k = 0; k < 2; ++k) {
      streams_[k] = o.streams_[k];
      o.streams_[k] = nullptr;
    }
    bytes_seen_ = o.bytes_seen_;
    stable_ = o.stable_;
    finished_ = o.finished_;
    history_ = std::move(o.history_);
    history_base_ = o.history_base_;
    pending_ = std::move(o.pending_);
    progress_ = std::move(o.progress_);
    reported_ = std::move(o.reported_);
  }
  return *this;
}

ScanStream::~ScanStream() {
  release();
}

void ScanStream::release() {
  for (hs_stream*& stream : streams_) {
    if (stream) {
      // No scratch and no callback: frees the stream without reporting end-of-data matches.
      hs_close_stream(stream, nullptr, nullptr, nullptr);
      stream = nullptr;
    }
  }
}

}  // namespace edgeward::rules
