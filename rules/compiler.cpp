// Pack -> Hyperscan databases (engine.hpp). Runs off the event loop.

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <thread>

#include "rules/byte_alphabet.hpp"
#include "rules/compiled_internal.hpp"

namespace edgeward::rules {

namespace {

std::atomic<std::uint64_t> g_generation{1};

// 02: wide repeats of token/url patterns compiled unbounded (relax_wide_repeats).
// 03: a slot's set may be a shared database plus an extra one (layout).
// 04: gated block databases (compiled_internal.hpp, kGates) after each database's stream one.
// 05: the context-gated block database last, context literals in the block one.
constexpr std::string_view kCacheMagic = "EWHSDB05";

// Wider patterns are not gated: their slices would cover most of any text that has a run.
constexpr std::uint32_t kMaxGatedWidth = 1024;

Action effective(const Rule& r, const CompileOptions& o) {
  if (r.action == Action::monitor) return Action::monitor;
  if (r.mode == RuleMode::monitor || o.mode == EnforcementMode::monitor) return Action::monitor;
  return r.action;
}

std::string pattern_path(const CompiledRulesData& d, const PatternEntry& e) {
  return "rules[" + std::to_string(e.rule) + "].detect.patterns[" + std::to_string(e.pattern) +
         "] (rule " + d.pack.rules[e.rule].id + ")";
}

// Wide bounded repeats (`[^\s)]{1,1024}`) are what makes Hyperscan compiles slow: it unrolls
// them into counting automata, and with SOM they may not compile at all. Where the span is
// recovered from the text (token/url) the bound adds nothing Hyperscan must enforce: the
// recovered span never reaches back further than the pattern's width as written (max_width,
// taken from the bounded form) and the rule's validator judges the candidate. So such
// repeats are compiled unbounded: `{m,n}` with n >= kRelaxFrom becomes `{m,}`. A rule that
// needs a bound on what precedes its token says so with context words (they are checked within
// `within` bytes of the span).
constexpr unsigned long kRelaxFrom = 32;

std::string relax_wide_repeats(std::string_view expr) {
  std::string out;
  out.reserve(expr.size());
  bool in_class = false;
  for (std::size_t i = 0; i < expr.size(); ++i) {
    const char c = expr[i];
    if (c == '\\' && i + 1 < expr.size()) {  // an escape: copy both bytes
      out += c;
      out += expr[++i];
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      // "[]...]" and "[^]...]": a leading ']' is a literal, not the end of the class.
      if (i + 1 < expr.size() && expr[i + 1] == '^') out += expr[++i];
      if (i + 1 < expr.size() && expr[i + 1] == ']') out += expr[++i];
      continue;
    }
    if (c == '{') {
      std::size_t j = i + 1;
      while (j < expr.size() && expr[j] >= '0' && expr[j] <= '9') ++j;
      const std::size_t comma = j;
      if (j > i + 1 && j < expr.size() && expr[j] == ',') {
        ++j;
        const std::size_t hi_start = j;
        while (j < expr.size() && expr[j] >= '0' && expr[j] <= '9') ++j;
        if (j > hi_start && j < expr.size() && expr[j] == '}' &&
            std::strtoul(std::string(expr.substr(hi_start, j - hi_start)).c_str(), nullptr, 10) >=
                kRelaxFrom) {
          out.append(expr.substr(i, comma - i + 1));  // "{m,"
          out += '}';
          i = j;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

// Sets e.span_bytes / span_first / span_trail (compiled_internal.hpp) from the expression as
// compiled. A match span is the match itself. A token/url span is recovered from the text
// (scanner.cpp, recover_spans): the end is the match's end trimmed back over bytes that are not
// span bytes (I: token/url bytes and '='), the start reaches back from there over I, at most the
// entry's width before the match's end; with nothing of I before the trimmed end, the span is
// the empty one at that width bound. So from a finding's start to the end of a match still to
// come the text is a run of I followed by a run of bytes not in I; and when the pattern can only
// match bytes of I, the end is never trimmed and the run of I is all.
void set_span_alphabet(PatternEntry& e) {
  const ByteAlphabet a =
      analyse_pattern(e.expression, (e.flags & HS_FLAG_CASELESS) != 0,
                      (e.flags & HS_FLAG_UTF8) != 0, (e.flags & HS_FLAG_UCP) != 0);
  e.span_bytes = a.bytes;
  e.span_first = a.first;
  e.span_at = a.at;
  if (e.span == SpanMode::match) return;
  ByteSet inside;
  for (unsigned b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (c == '=' || (e.span == SpanMode::token ? is_token_byte(c) : is_url_byte(c))) inside.set(b);
  }
  e.span_bytes = inside;
  e.span_first = inside;
  // Recovery may start the span anywhere in the run of I: nothing is known per offset.
  for (ByteSet& s : e.span_at) s.set();
  if ((a.bytes & ~inside).any()) e.span_trail = ~inside;
}

// Sets e.match_at from the expression Hyperscan compiles (relaxed repeats included): what the
// short-text filter may assume about any match Hyperscan reports. A pattern the analysis cannot
// read allows every byte everywhere. Puts the entry behind the first gate (kGates) whose range
// every match holds a long enough run of, when the expression reads nothing outside its match
// and `compiled_width` (its widest match as compiled) is small enough. Returns whether the entry
// could be scanned on slices at all (the same conditions without the run).
bool set_match_prefix(PatternEntry& e, std::uint32_t compiled_width) {
  std::array<ByteSet, kGates.size()> ranges;
  for (std::size_t g = 0; g < kGates.size(); ++g) {
    for (unsigned b = kGates[g].lo; b <= kGates[g].hi; ++b) ranges[g].set(b);
  }
  const ByteAlphabet a =
      analyse_pattern(e.expression, (e.flags & HS_FLAG_CASELESS) != 0,
                      (e.flags & HS_FLAG_UTF8) != 0, (e.flags & HS_FLAG_UCP) != 0, ranges);
  e.match_at = a.at;
  if (!a.understood) {
    for (ByteSet& s : e.match_at) s.set();
    return false;
  }
  if (a.reads_outside || compiled_width > kMaxGatedWidth) return false;
  for (std::size_t g = 0; g < kGates.size(); ++g) {
    if (a.run[g] >= kGates[g].min_run) {
      e.gate = static_cast<int>(g);
      e.gate_run = a.run[g];
      e.gate_width = compiled_width;
      break;
    }
  }
  return true;
}

// Everyday English words: a context word spelled with them is found in most paragraphs, so its
// rule gains nothing from waiting for it (role play's "you are", a log-in's "user"). Kept short
// and lowercase; a rule of rare words (passport, swift, iban) is what the gate is for.
constexpr std::string_view kCommonWords[] = {
    "a",        "about",  "access", "account",  "after",     "all",       "also",      "an",
    "and",      "answer", "any",    "anything", "are",       "as",        "at",        "back",
    "be",       "been",   "but",    "by",       "can",       "character", "code",      "come",
    "could",    "data",   "date",   "day",      "developer", "did",       "do",        "even",
    "file",     "first",  "for",    "from",     "get",       "give",      "go",        "good",
    "had",      "has",    "have",   "he",       "help",      "her",       "here",      "him",
    "his",      "host",   "how",    "i",        "if",        "in",        "into",      "is",
    "it",       "its",    "just",   "key",      "know",      "like",      "line",      "log",
    "look",     "make",   "me",     "mode",     "more",      "most",      "my",        "name",
    "network",  "new",    "no",     "normal",   "not",       "now",       "number",    "of",
    "on",       "one",    "only",   "or",       "other",     "our",       "out",       "over",
    "page",     "people", "play",   "read",     "respond",   "response",  "responses", "say",
    "security", "see",    "send",   "service",  "she",       "sign",      "so",        "social",
    "some",     "take",   "text",   "than",     "that",      "the",       "their",     "them",
    "then",     "there",  "these",  "they",     "think",     "this",      "time",      "to",
    "tokens",   "two",    "up",     "us",       "use",       "user",      "very",      "want",
    "way",      "we",     "well",   "what",     "when",      "which",     "who",       "will",
    "with",     "work",   "would",  "write",    "year",      "you",       "your"};

bool is_common_word(std::string_view w) {
  for (std::string_view c : kCommonWords) {
    if (w == c) return true;
  }
  return false;
}

// The piece of a context word the context gate looks for: every occurrence of the word holds
// each of its runs without a space (a space in a word matches any run of whitespace), and the
// longest one that is not an everyday word is the rarest to find. Lowercase; empty when every
// run is an everyday word (or the word is only spaces).
std::string context_piece(std::string_view word) {
  std::string best;
  while (!word.empty()) {
    const std::size_t sp = word.find(' ');
    std::string part(word.substr(0, sp));
    for (char& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (part.size() > best.size() && !is_common_word(part)) best = std::move(part);
    if (sp == std::string_view::npos) break;
    word.remove_prefix(sp + 1);
  }
  return best;
}

// A piece shorter than this would slow the main database more than the gate saves: Hyperscan's
// literal matcher drops to a stride of one byte for literals of one or two bytes.
constexpr std::size_t kMinContextPiece = 3;

// Whether the patterns of `r` may wait behind the context gate (compiled_internal.hpp): its
// context words are required and each has a piece that is not an everyday word.
bool context_gateable(const Rule& r) {
  if (!r.detect.context || !r.detect.context->required || r.detect.context->words.empty()) {
    return false;
  }
  for (const std::string& w : r.detect.context->words) {
    if (context_piece(w).size() < kMinContextPiece) return false;
  }
  return true;
}

// Whether `expression` spells a piece of one of the context words of `r` itself (a service
// account file's `"service_account"`): such a pattern already waits for the rare word, and
// putting it behind the gate would only add literals to the main database.
bool spells_context_word(std::string_view expression, const Rule& r) {
  std::string lower(expression);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& w : r.detect.context->words) {
    if (lower.find(context_piece(w)) != std::string::npos) return true;
  }
  return false;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// A Hyperscan expression for `piece`, every byte but letters and digits escaped. An edge that is
// a word byte gets a `\b`: in an occurrence of the word that edge is the word's own (which must
// be a word boundary) or lies next to whitespace.
std::string literal_expression(std::string_view piece) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  if (!piece.empty() && is_word_char(piece.front())) out += "\\b";
  for (char c : piece) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  if (!piece.empty() && is_word_char(piece.back())) out += "\\b";
  return out;
}

// The widest match of `expression` as Hyperscan reads it (UINT_MAX: unbounded or unreadable).
std::uint32_t expression_width(const std::string& expression, unsigned flags) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_expression_info(expression.c_str(), flags, &info, &err) != HS_SUCCESS) {
    if (err) hs_free_compile_error(err);
    return UINT_MAX;
  }
  const std::uint32_t width = info->max_width;
  std::free(info);
  return width;
}

// A database's SpacedReach (compiled_internal.hpp). An entry may go to the wide side only when
// its rule has no context words and every match begins with ASCII punctuation: a letter, a
// digit or white space is next to nearly every run, and a context window reaches both ways.
SpacedReach spaced_reach(const CompiledRulesData& d, const std::vector<std::uint32_t>& set) {
  struct Reach {
    std::uint32_t bytes;
    const PatternEntry* wide_side;  // null: counts towards `narrow`
  };
  std::vector<Reach> reaches;
  for (std::uint32_t id : set) {
    const PatternEntry& e = d.entries[id];
    const std::uint32_t within = d.rule_within[e.rule];
    const bool spaced = e.span_bytes.test(' ') || e.span_bytes.test('\t') ||
                        e.span_trail.test(' ') || e.span_trail.test('\t');
    if (!spaced && within == 0) continue;
    // ASCII punctuation, spelled out rather than by std::ispunct: a compile must not depend on
    // the process's locale.
    const auto punctuation = [](unsigned b) {
      return b > 0x20 && b < 0x7F && !(b >= '0' && b <= '9') && !(b >= 'A' && b <= 'Z') &&
             !(b >= 'a' && b <= 'z');
    };
    bool punctuation_start = within == 0 && e.match_at[0].any();
    for (unsigned b = 0; b < 256 && punctuation_start; ++b) {
      punctuation_start = !e.match_at[0].test(b) || punctuation(b);
    }
    reaches.push_back({e.max_width + 2 * within, punctuation_start ? &e : nullptr});
  }
  SpacedReach r;
  for (const Reach& x : reaches) {
    r.wide = std::max(r.wide, x.bytes);
    if (x.wide_side == nullptr) r.narrow = std::max(r.narrow, x.bytes);
  }
  for (const Reach& x : reaches) {
    if (x.wide_side == nullptr || x.bytes <= r.narrow) continue;
    for (unsigned b = 0; b < 0x80; ++b) {
      if (x.wide_side->match_at[0].test(b)) r.wide_first[b >> 6] |= std::uint64_t{1} << (b & 63);
    }
  }
  return r;
}

// The short-text filter of a database (compiled_internal.hpp, ShortTextFilter): per entry that
// fits in a short text, the byte pairs at its most selective pair of leading offsets.
ShortTextFilter short_text_filter(const CompiledRulesData& d,
                                  const std::vector<std::uint32_t>& set) {
  ShortTextFilter f;
  for (auto& table : f.pairs) table.assign(65536 / 64, 0);
  for (std::uint32_t id : set) {
    const PatternEntry& e = d.entries[id];
    if (e.min_width > kShortText) continue;  // no match fits in a short text
    if (e.min_width < 2) return ShortTextFilter{};
    std::size_t best = 0, best_count = SIZE_MAX;
    for (std::size_t k = 0; k + 1 < kCheckedPrefix && k + 2 <= e.min_width; ++k) {
      const std::size_t count = e.match_at[k].count() * e.match_at[k + 1].count();
      if (count < best_count) {
        best = k;
        best_count = count;
      }
    }
    for (std::size_t t = 0; t < kShortTextBounds.size(); ++t) {
      if (e.min_width > kShortTextBounds[t]) continue;
      for (unsigned a = 0; a < 256; ++a) {
        if (!e.match_at[best].test(a)) continue;
        for (unsigned b = 0; b < 256; ++b) {
          if (e.match_at[best + 1].test(b)) {
            const unsigned pair = a << 8 | b;
            f.pairs[t][pair >> 6] |= std::uint64_t{1} << (pair & 63);
          }
        }
      }
    }
  }
  f.usable = true;
  return f;
}

// The distinct (bytes, first) of the entries in `set` whose rule applies to `layer`, each with
// the widest of their entries' widths.
std::vector<TailClass> tail_classes(const CompiledRulesData& d,
                                    const std::vector<std::uint32_t>& set, int layer) {
  std::vector<TailClass> out;
  for (std::uint32_t id : set) {
    const PatternEntry& e = d.entries[id];
    if (!(d.rule_layers[e.rule] & (1u << layer))) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const TailClass& t) {
      return t.bytes == e.span_bytes && t.first == e.span_first && t.trail == e.span_trail &&
             t.at == e.span_at;
    });
    if (it == out.end()) {
      out.push_back(TailClass{e.span_bytes, e.span_first, e.span_trail, e.span_at, e.max_width});
    } else {
      it->max_width = std::max(it->max_width, e.max_width);
    }
  }
  return out;
}

TailTable tail_table(std::vector<TailClass> classes) {
  TailTable t;
  std::vector<TailClass> plain;
  for (TailClass& c : classes) (c.trail.any() ? t.trailing : plain).push_back(std::move(c));
  t.words = (plain.size() + 63) / 64;
  t.bytes.assign(256 * t.words, 0);
  t.at.assign(kCheckedPrefix * 256 * t.words, 0);
  for (std::size_t c = 0; c < plain.size(); ++c) {
    const std::uint64_t bit = std::uint64_t{1} << (c % 64);
    const std::size_t w = c / 64;
    for (std::size_t b = 0; b < 256; ++b) {
      if (plain[c].bytes.test(b)) t.bytes[b * t.words + w] |= bit;
      for (std::size_t k = 0; k < kCheckedPrefix; ++k) {
        if (plain[c].at[k].test(b)) t.at[(k * 256 + b) * t.words + w] |= bit;
      }
    }
    t.widths.emplace_back(plain[c].max_width, static_cast<std::uint32_t>(c));
    t.max_width = std::max(t.max_width, plain[c].max_width);
  }
  std::sort(t.widths.begin(), t.widths.end());
  return t;
}

// Builds everything but the Hyperscan databases: the pattern table, per-rule data and the
// (scope, surface) -> database mapping. Deterministic in the pack, so a cache can skip the
// compile and reuse it.
Result<std::unique_ptr<CompiledRulesData>> layout(Pack pack, const CompileOptions& options) {
  auto d = std::make_unique<CompiledRulesData>();
  d->pack = std::move(pack);
  d->options = options;
  d->generation = g_generation.fetch_add(1);
  const auto& rules = d->pack.rules;
  d->rule_max_width.assign(rules.size(), 0);
  d->rule_within.assign(rules.size(), 0);
  d->rule_entries.assign(rules.size(), {});
  d->rule_context.assign(rules.size(), ContextIndex{});
  d->rule_layers.assign(rules.size(), 0);
  d->window_model.assign(rules.size(), 0);
  d->actions.resize(rules.size());
  for (std::uint32_t i = 0; i < rules.size(); ++i) {
    const Rule& r = rules[i];
    d->actions[i] = effective(r, options);
    if (r.kind != RuleKind::pattern) {
      d->policy_rules.push_back(i);
      continue;
    }
    for (Layer l : r.layers)
      d->rule_layers[i] |= static_cast<std::uint8_t>(1u << static_cast<int>(l));
    d->window_model[i] = r.detect.validator && scores_window(*r.detect.validator);
    if (r.detect.context) {
      d->rule_within[i] = r.detect.context->within;
      d->rule_context[i] = ContextIndex{index_words(r.detect.context->words),
                                        index_words(r.detect.context->exclude)};
    }
    for (std::uint32_t p = 0; p < r.detect.patterns.size(); ++p) {
      PatternEntry e;
      e.rule = i;
      e.pattern = p;
      e.span = r.detect.span;
      // SOM only where the span comes from Hyperscan (engine.hpp).
      e.flags = (e.span == SpanMode::match ? HS_FLAG_SOM_LEFTMOST : 0u) |
                (r.detect.caseless ? HS_FLAG_CASELESS : 0u);
      e.expression = r.detect.patterns[p];
      if (e.expression.size() > 2 && e.expression.compare(0, 2, "\\b") == 0) {
        e.expression.erase(0, 2);
        e.boundary_start = e.span == SpanMode::match;  // token/url spans find their own start
      }
      if (e.expression.size() > 2 && e.expression.compare(e.expression.size() - 2, 2, "\\b") == 0) {
        // "\\b" (an escaped backslash, then b) is not a boundary: count the backslashes.
        std::size_t slashes = 0;
        for (std::size_t k = e.expression.size() - 2; k > 0 && e.expression[k - 1] == '\\'; --k) {
          ++slashes;
        }
        if (slashes % 2 == 0) {
          e.expression.erase(e.expression.size() - 2);
          e.boundary_end = true;
        }
      }
      hs_expr_info_t* info = nullptr;
      hs_compile_error_t* err = nullptr;
      if (hs_expression_info(e.expression.c_str(), e.flags, &info, &err) != HS_SUCCESS) {
        std::string msg = err && err->message ? err->message : "invalid pattern";
        if (err) hs_free_compile_error(err);
        return make_error("rules.compile_failed", pattern_path(*d, e) + ": Hyperscan: " + msg);
      }
      e.max_width = info->max_width;
      e.min_width = info->min_width;
      std::free(info);
      if (e.max_width == UINT_MAX || e.max_width > kMaxPatternWidth) {
        return make_error("rules.compile_failed", pattern_path(*d, e) + ": unbounded pattern");
      }
      set_span_alphabet(e);
      std::uint32_t compiled_width = e.max_width;
      if (e.span != SpanMode::match) {
        std::string relaxed = relax_wide_repeats(e.expression);
        if (relaxed != e.expression) {
          e.expression = std::move(relaxed);
          compiled_width = expression_width(e.expression, e.flags);
        }
      }
      if (set_match_prefix(e, compiled_width) && e.max_width <= kMaxGatedWidth &&
          !(r.detect.context && spells_context_word(e.expression, r))) {
        // May wait behind the context gate; whether it does is the rule's decision (below).
        e.context_reach = r.detect.context
                              ? r.detect.context->within + std::max(compiled_width, e.max_width) + 1
                              : 0;
      }
      d->rule_max_width[i] = std::max(d->rule_max_width[i], e.max_width);
      d->rule_entries[i].push_back(static_cast<std::uint32_t>(d->entries.size()));
      d->entries.push_back(e);
    }
    // The context gate pays for rules with a pattern that can start at a capital: those send
    // Hyperscan into its automata at every capital of ordinary text. Patterns of digits alone
    // (a routing number) skip fast over text without digits, and their words would only add
    // literals to the main database (measured: docs/development.md).
    if (!context_gateable(r)) continue;
    bool capital_start = false;
    for (std::uint32_t id : d->rule_entries[i]) {
      for (unsigned b = 'A'; b <= 'Z'; ++b) {
        capital_start = capital_start || d->entries[id].match_at[0].test(b);
      }
    }
    if (!capital_start) continue;
    for (std::uint32_t id : d->rule_entries[i]) {
      PatternEntry& e = d->entries[id];
      if (e.context_reach == 0) continue;
      e.gate = -1;
      e.context_gated = true;
    }
  }
  std::stable_sort(
      d->policy_rules.begin(), d->policy_rules.end(),
      [&](std::uint32_t a, std::uint32_t b) { return rules[a].priority < rules[b].priority; });
  // Group entries by (scope, surface): identical sets share a database, and a set that is a
  // larger set's bulk plus a few patterns scans that set's database and an extra one (engine.hpp).
  std::array<std::vector<std::uint32_t>, kSlotCount> sets;
  for (int s = 0; s < kScopeCount; ++s) {
    for (int f = 0; f < kSurfaceCount; ++f) {
      std::vector<std::uint32_t>& set = sets[static_cast<std::size_t>(s * kSurfaceCount + f)];
      for (std::uint32_t id = 0; id < d->entries.size(); ++id) {
        const Rule& r = rules[d->entries[id].rule];
        bool scope_ok =
            std::find(r.scope.begin(), r.scope.end(), static_cast<Scope>(s)) != r.scope.end();
        bool surface_ok = std::find(r.matched_in.begin(), r.matched_in.end(),
                                    static_cast<Surface>(f)) != r.matched_in.end();
        if (scope_ok && surface_ok) set.push_back(id);
      }
    }
  }
  std::map<std::vector<std::uint32_t>, int> seen;
  auto database_for = [&](const std::vector<std::uint32_t>& set) {
    auto [it, inserted] = seen.emplace(set, static_cast<int>(d->dbs.size()));
    if (inserted) {
      Database db;
      db.entries = set;
      db.short_text = short_text_filter(*d, set);
      db.spaced = spaced_reach(*d, set);
      for (std::uint32_t id : set) {
        const PatternEntry& e = d->entries[id];
        db.max_width = std::max(db.max_width, e.max_width);
        db.max_within = std::max(db.max_within, d->rule_within[e.rule]);
        if (e.context_gated) {
          db.context.entries.push_back(id);
          for (const std::string& w : rules[e.rule].detect.context->words) {
            const std::string piece = context_piece(w);
            auto at = std::find(db.context.literals.begin(), db.context.literals.end(), piece);
            if (at == db.context.literals.end()) {
              db.context.literals.push_back(piece);
              db.context.reach.push_back(e.context_reach);
            } else {
              auto& reach = db.context.reach[static_cast<std::size_t>(
                  std::distance(db.context.literals.begin(), at))];
              reach = std::max(reach, e.context_reach);
            }
          }
        }
        if (e.gate < 0) continue;
        GatedDatabase& g = db.gated[static_cast<std::size_t>(e.gate)];
        g.min_run = g.entries.empty() ? e.gate_run : std::min(g.min_run, e.gate_run);
        g.width = std::max(g.width, e.gate_width);
        g.entries.push_back(id);
      }
      d->dbs.push_back(std::move(db));
    }
    return it->second;
  };
  // Distinct sets, smallest first (ties: slot order), so that a set's candidate bases are
  // decided before it. A base must cover at least half of the set (otherwise two scans of
  // similar size would cost more scan time than the shared compile saves) and must itself be
  // whole (one database), so that no slot scans more than two.
  std::vector<int> order;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (!sets[static_cast<std::size_t>(slot)].empty()) order.push_back(slot);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return sets[static_cast<std::size_t>(a)].size() < sets[static_cast<std::size_t>(b)].size();
  });
  d->slot_db.fill(-1);
  d->slot_extra_db.fill(-1);
  std::vector<int> whole;  // slots whose set is one database
  for (int slot : order) {
    const auto& set = sets[static_cast<std::size_t>(slot)];
    int base = -1;
    for (int w : whole) {
      const auto& cand = sets[static_cast<std::size_t>(w)];
      if (cand.size() >= set.size() || cand.size() * 2 < set.size()) continue;
      if (!std::includes(set.begin(), set.end(), cand.begin(), cand.end())) continue;
      if (base < 0 || cand.size() > sets[static_cast<std::size_t>(base)].size()) base = w;
    }
    if (base < 0) {
      d->slot_db[static_cast<std::size_t>(slot)] = database_for(set);
      whole.push_back(slot);
      continue;
    }
    const auto& shared = sets[static_cast<std::size_t>(base)];
    std::vector<std::uint32_t> rest;
    std::set_difference(set.begin(), set.end(), shared.begin(), shared.end(),
                        std::back_inserter(rest));
    d->slot_db[static_cast<std::size_t>(slot)] = database_for(shared);
    d->slot_extra_db[static_cast<std::size_t>(slot)] = database_for(rest);
  }
  for (int f = 0; f < kSurfaceCount; ++f) {
    const int slot = slot_of(Scope::response, static_cast<Surface>(f));
    for (int l = 0; l < kLayerCount; ++l) {
      d->stream_tails[static_cast<std::size_t>(slot * kLayerCount + l)] =
          tail_table(tail_classes(*d, sets[static_cast<std::size_t>(slot)], l));
    }
  }
  std::string digest_input = pack_to_json(d->pack);
  digest_input += options.mode == EnforcementMode::monitor ? "|monitor" : "|enforce";
  // Which entry sits in which database, and the context literals by id, are decided here from
  // the pack and this build's heuristics (kGates, kCommonWords, …): a cached database laid out
  // by another build would map ids to the wrong entries or literals, so they are in the digest.
  for (const PatternEntry& e : d->entries) {
    digest_input += "|" + std::to_string(e.gate) + (e.context_gated ? "c" : "") +
                    std::to_string(e.context_gated ? e.context_reach : 0);
  }
  for (const Database& db : d->dbs) {
    for (std::size_t k = 0; k < db.context.literals.size(); ++k) {
      digest_input += "|" + db.context.literals[k] + ":" + std::to_string(db.context.reach[k]);
    }
  }
  crypto_hash_sha256(d->digest.data(), reinterpret_cast<const unsigned char*>(digest_input.data()),
                     digest_input.size());
  return d;
}

// True when a response-scope slot uses database `i` (it must exist in stream mode too).
bool wants_stream(const CompiledRulesData& d, std::size_t i) {
  for (int f = 0; f < kSurfaceCount; ++f) {
    const auto slot = static_cast<std::size_t>(slot_of(Scope::response, static_cast<Surface>(f)));
    if (d.slot_db[slot] == static_cast<int>(i) || d.slot_extra_db[slot] == static_cast<int>(i)) {
      return true;
    }
  }
  return false;
}

// The entries of database `db` that `kind` compiles: every one (stream), those behind no gate
// (block, with the context literals), those behind gate kind - kGated, or those behind the
// context gate.
constexpr int kBlock = 0;
constexpr int kStream = 1;
constexpr int kGated = 2;
constexpr int kContextGated = kGated + kGateCount;
constexpr int kKinds = kContextGated + 1;

std::vector<std::uint32_t> kind_entries(const CompiledRulesData& d, const Database& db, int kind) {
  if (kind == kStream) return db.entries;
  if (kind == kContextGated) return db.context.entries;
  if (kind >= kGated) return db.gated[static_cast<std::size_t>(kind - kGated)].entries;
  std::vector<std::uint32_t> out;
  for (std::uint32_t id : db.entries) {
    if (d.entries[id].gate < 0 && !d.entries[id].context_gated) out.push_back(id);
  }
  return out;
}

// Whether database `i` has a Hyperscan database of `kind`.
bool kind_wanted(const CompiledRulesData& d, std::size_t i, int kind) {
  if (kind == kStream && !wants_stream(d, i)) return false;
  if (kind == kBlock && !d.dbs[i].context.literals.empty()) return true;
  return !kind_entries(d, d.dbs[i], kind).empty();
}

HsDatabase& kind_database(Database& db, int kind) {
  if (kind == kBlock) return db.block;
  if (kind == kStream) return db.stream;
  if (kind == kContextGated) return db.context.block;
  return db.gated[static_cast<std::size_t>(kind - kGated)].block;
}

// `literals`: context pieces compiled along (ids from kContextLiteralId), caseless.
Result<HsDatabase> compile_db(const CompiledRulesData& d, const std::vector<std::uint32_t>& entries,
                              unsigned mode, const std::vector<std::string>& literals = {}) {
  std::vector<const char*> exprs;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  bool som = false;
  for (std::uint32_t id : entries) {
    const PatternEntry& e = d.entries[id];
    exprs.push_back(e.expression.c_str());
    flags.push_back(e.flags);
    ids.push_back(id);
    som = som || (e.flags & HS_FLAG_SOM_LEFTMOST) != 0;
  }
  std::vector<std::string> literal_exprs;
  literal_exprs.reserve(literals.size());
  for (std::size_t k = 0; k < literals.size(); ++k) {
    literal_exprs.push_back(literal_expression(literals[k]));
    flags.push_back(HS_FLAG_CASELESS);
    ids.push_back(kContextLiteralId + static_cast<unsigned>(k));
  }
  for (const std::string& x : literal_exprs) exprs.push_back(x.c_str());
  // Stream mode keeps start-of-match state only for patterns that track it: the horizon (matches
  // are at most 4 KiB, so the small one is exact) is asked for only then.
  if ((mode & HS_MODE_STREAM) && som) mode |= HS_MODE_SOM_HORIZON_SMALL;
  hs_database_t* raw = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), static_cast<unsigned>(exprs.size()),
                       mode, nullptr, &raw, &err) != HS_SUCCESS) {
    std::string where;
    if (err && err->expression >= 0 && static_cast<std::size_t>(err->expression) < entries.size()) {
      where = pattern_path(d, d.entries[entries[static_cast<std::size_t>(err->expression)]]) + ": ";
    } else if (err && err->expression >= 0 &&
               static_cast<std::size_t>(err->expression) < entries.size() + literals.size()) {
      where = "context word piece '" +
              literals[static_cast<std::size_t>(err->expression) - entries.size()] + "': ";
    }
    std::string msg = err && err->message ? err->message : "compile failed";
    if (err) hs_free_compile_error(err);
    return make_error("rules.compile_failed", where + "Hyperscan: " + msg);
  }
  return HsDatabase(raw);
}

Status make_prototype(CompiledRulesData& d) {
  hs_scratch_t* scratch = nullptr;
  for (auto& db : d.dbs) {
    for (const hs_database_t* h : hs_databases(db)) {
      if (!h) continue;
      if (hs_alloc_scratch(h, &scratch) != HS_SUCCESS) {
        if (scratch) hs_free_scratch(scratch);
        return make_error("rules.scratch_failed", "Hyperscan could not allocate scratch space");
      }
    }
  }
  d.prototype.reset(scratch);
  return ok_status();
}

void append_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

bool read_u64(std::string_view& in, std::uint64_t& v) {
  if (in.size() < 8) return false;
  v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(in[static_cast<std::size_t>(i)]);
  in.remove_prefix(8);
  return true;
}

}  // namespace

CompiledRules::CompiledRules(std::unique_ptr<CompiledRulesData> data) : data_(std::move(data)) {}
CompiledRules::~CompiledRules() = default;

const Pack& CompiledRules::pack() const {
  return data_->pack;
}
const Rule& CompiledRules::rule(std::uint32_t index) const {
  return data_->pack.rules[index];
}
EnforcementMode CompiledRules::mode() const {
  return data_->options.mode;
}
Action CompiledRules::effective_action(std::uint32_t index) const {
  return data_->actions[index];
}
Finding CompiledRules::finding_of(std::uint32_t index) const {
  const Rule& r = data_->pack.rules[index];
  Finding f;
  f.rule_index = index;
  f.reason_code = r.reason_code;
  f.rule_id = r.id;
  f.rule_name = r.name;
  f.severity = r.severity;
  f.action = data_->actions[index];
  f.priority = r.priority;
  return f;
}
std::span<const std::uint32_t> CompiledRules::policy_rules() const {
  return data_->policy_rules;
}
std::uint64_t CompiledRules::generation() const {
  return data_->generation;
}

bool CompiledRules::has_patterns(Scope scope, Surface surface) const {
  return data_->slot_db[static_cast<std::size_t>(slot_of(scope, surface))] >= 0;
}

std::size_t CompiledRules::max_match_length(Scope scope, Surface surface) const {
  return data_->slot_widths(slot_of(scope, surface)).match;
}

std::size_t CompiledRules::database_count() const {
  std::size_t n = 0;
  for (const auto& db : data_->dbs) {
    for (const hs_database_t* h : hs_databases(db)) n += h ? 1 : 0;
  }
  return n;
}

std::size_t CompiledRules::database_bytes() const {
  std::size_t total = 0;
  for (const auto& db : data_->dbs) {
    for (const hs_database_t* h : hs_databases(db)) {
      std::size_t size = 0;
      if (h && hs_database_size(h, &size) == HS_SUCCESS) total += size;
    }
  }
  return total;
}

Result<std::string> CompiledRules::serialize() const {
  std::string out(kCacheMagic);
  out.append(reinterpret_cast<const char*>(data_->digest.data()), data_->digest.size());
  append_u64(out, data_->dbs.size());
  for (const auto& db : data_->dbs) {
    for (const hs_database_t* h : hs_databases(db)) {
      if (!h) {
        append_u64(out, 0);
        continue;
      }
      char* bytes = nullptr;
      std::size_t len = 0;
      if (hs_serialize_database(h, &bytes, &len) != HS_SUCCESS) {
        return make_error("rules.serialize_failed", "hs_serialize_database failed");
      }
      append_u64(out, len);
      out.append(bytes, len);
      std::free(bytes);  // Hyperscan's misc allocator (malloc by default)
    }
  }
  return out;
}

Result<std::shared_ptr<const CompiledRules>> compile_rules(Pack pack,
                                                           const CompileOptions& options) {
  if (hs_valid_platform() != HS_SUCCESS) {
    return make_error("rules.hyperscan_unsupported", "this CPU lacks SSSE3, which Hyperscan needs");
  }
  auto d = layout(std::move(pack), options);
  if (!d.ok()) return d.error();
  CompiledRulesData& data = **d;
  // Every database compiles independently (hs_compile_multi is thread-safe): spread them over
  // the cores. The caller is already off the event loop; this only shortens the wait.
  struct Task {
    std::size_t db;
    int kind;
    std::vector<std::uint32_t> entries;
    std::size_t cost = 0;
    std::optional<Result<HsDatabase>> result;
  };
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < data.dbs.size(); ++i) {
    for (int kind = 0; kind < kKinds; ++kind) {
      if (!kind_wanted(data, i, kind)) continue;
      Task task{i, kind, kind_entries(data, data.dbs[i], kind), 0, std::nullopt};
      // A database's compile time grows with its patterns' total length.
      for (std::uint32_t id : task.entries) task.cost += data.entries[id].expression.size() + 16;
      tasks.push_back(std::move(task));
    }
  }
  // Longest first (LPT): the wait is the busiest thread's sum, and a large database picked up
  // last would run alone.
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const Task& a, const Task& b) { return a.cost > b.cost; });
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t t = next++; t < tasks.size(); t = next++) {
      Task& task = tasks[t];
      task.result = compile_db(
          data, task.entries, task.kind == kStream ? HS_MODE_STREAM : HS_MODE_BLOCK,
          task.kind == kBlock ? data.dbs[task.db].context.literals : std::vector<std::string>{});
    }
  };
  const std::size_t threads =
      std::min<std::size_t>(tasks.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (Task& task : tasks) {
    if (!task.result->ok()) return task.result->error();
    kind_database(data.dbs[task.db], task.kind) = std::move(task.result->value());
  }
  if (auto s = make_prototype(data); !s.ok()) return s.error();
  return std::shared_ptr<const CompiledRules>(std::make_shared<CompiledRules>(std::move(*d)));
}

Result<std::shared_ptr<const CompiledRules>> load_compiled_rules(Pack pack,
                                                                 std::string_view serialized,
                                                                 const CompileOptions& options) {
  auto d = layout(std::move(pack), options);
  if (!d.ok()) return d.error();
  CompiledRulesData& data = **d;
  std::string_view in = serialized;
  if (in.size() < kCacheMagic.size() + data.digest.size() ||
      in.substr(0, kCacheMagic.size()) != kCacheMagic ||
      std::memcmp(in.data() + kCacheMagic.size(), data.digest.data(), data.digest.size()) != 0) {
    return make_error("rules.cache_mismatch",
                      "cached databases belong to another pack, options or format");
  }
  in.remove_prefix(kCacheMagic.size() + data.digest.size());
  std::uint64_t count = 0;
  if (!read_u64(in, count) || count != data.dbs.size()) {
    return make_error("rules.cache_mismatch", "cached database count differs from the pack's");
  }
  for (std::size_t i = 0; i < data.dbs.size(); ++i) {
    for (int kind = 0; kind < kKinds; ++kind) {
      std::uint64_t len = 0;
      if (!read_u64(in, len) || len > in.size()) {
        return make_error("rules.cache_corrupt", "cached databases are truncated");
      }
      const bool expected = kind_wanted(data, i, kind);
      if ((len != 0) != expected) {
        return make_error("rules.cache_mismatch", "cached database layout differs from the pack's");
      }
      if (len == 0) continue;
      hs_database_t* raw = nullptr;
      if (hs_deserialize_database(in.data(), len, &raw) != HS_SUCCESS) {
        return make_error("rules.cache_incompatible",
                          "Hyperscan refused a cached database (other version or CPU platform)");
      }
      kind_database(data.dbs[i], kind).reset(raw);
      in.remove_prefix(len);
    }
  }
  if (!in.empty()) return make_error("rules.cache_corrupt", "trailing bytes after the databases");
  if (auto s = make_prototype(data); !s.ok()) return s.error();
  return std::shared_ptr<const CompiledRules>(std::make_shared<CompiledRules>(std::move(*d)));
}

std::string engine_cache_key() {
  std::string key = "hs ";
  key += hs_version();
  hs_platform_info_t p{};
  if (hs_populate_platform(&p) == HS_SUCCESS) {
    key += ";tune=" + std::to_string(p.tune) + ";features=" + std::to_string(p.cpu_features);
  }
  return key;
}

Decision decide(std::span<const Finding> findings) {
  Decision d;
  auto better = [&](std::size_t i) {
    return !d.deciding || findings[i].priority < findings[*d.deciding].priority;
  };
  for (Verdict v : {Verdict::block, Verdict::redact, Verdict::monitor}) {
    Action want = v == Verdict::block    ? Action::block
                  : v == Verdict::redact ? Action::redact
                                         : Action::monitor;
    for (std::size_t i = 0; i < findings.size(); ++i) {
      if (findings[i].action == want && better(i)) d.deciding = i;
    }
    if (d.deciding) {
      d.verdict = v;
      return d;
    }
  }
  return d;
}

}  // namespace edgeward::rules
