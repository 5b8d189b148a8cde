#pragma once
// Internal layout of a CompiledRules, shared by compiler.cpp and scanner.cpp. Not part of the
// public API: other parts use engine.hpp and scanner.hpp.

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/byte_alphabet.hpp"
#include "rules/engine.hpp"
#include "rules/gate_slices.hpp"

namespace edgeward::rules {

struct HsDatabaseFree {
  void operator()(hs_database_t* db) const { hs_free_database(db); }
};
struct HsScratchFree {
  void operator()(hs_scratch_t* s) const { hs_free_scratch(s); }
};
using HsDatabase = std::unique_ptr<hs_database_t, HsDatabaseFree>;
using HsScratch = std::unique_ptr<hs_scratch_t, HsScratchFree>;

// Gates. A pattern every match of which holds a run of at least `min_run` bytes of one of these
// byte ranges (byte_alphabet.hpp, ByteAlphabet::run) and that reads nothing outside its match
// (cut `\b`s aside: they are checked on the whole text) is compiled into its database's gated
// database for that range, which block mode scans only on the slices of the text around such
// runs (gate_slices.hpp). Such a match lies inside the slice around any run it holds, and a
// slice holds one byte more on each side, so the slice scan reports exactly the matches the
// whole text has there. Stream mode scans every pattern over every byte.
//
// The one gate is runs of 6 capitals. A pattern made of capital runs and no literal (the BIC's
// `[A-Z]{6}[A-Z0-9]{2}`) sends Hyperscan into its automaton at every capital of ordinary text,
// ~160 instructions each: on real English that pattern alone was a quarter of the pack's scan
// time (docs/development.md, "Where the scan time goes"). Gates on digits and '@' were measured
// too and dropped: the PII automata already skip text without digits.
struct GateClass {
  unsigned char lo;  // the range [lo, hi]
  unsigned char hi;
  std::uint32_t min_run;  // a pattern is gated when its guaranteed run is at least this long
};
inline constexpr std::array<GateClass, 1> kGates = {{
    {'A', 'Z', 6},  // runs of capitals: BICs (shorter runs start sentences and acronyms)
}};
inline constexpr int kGateCount = static_cast<int>(kGates.size());
static_assert(kGates.size() <= kMaxSliceSpecs, "one gate_slices pass covers every gate");

// The context gate. A rule whose context words are required (ContextSpec::required) reports
// nothing unless one of its words lies within `within` bytes before or after the match, and
// every occurrence of a word holds, case-insensitively, each run of the word without a space.
// So the block databases look for one such piece per word (as literals in the database's main
// block database, ids from kContextLiteralId), and the rule's patterns are compiled into the
// database's context-gated database, scanned only on the slices of the text around the pieces
// found: a slice reaches `within` plus the widest match plus one byte past each piece, so it
// holds every match whose context that piece could satisfy, with the byte before and after it
// for `\b`. Matches the slices miss have no context word in reach: accept_candidate would
// refuse them. A pattern that reads outside its match or is wider than kMaxGatedWidth is not
// gated, nor a rule with a context word made of everyday words (compiler.cpp, kCommonWords):
// its slices would cover most text. Stream mode scans every pattern over every byte.
inline constexpr unsigned kContextLiteralId = 0x40000000u;

// One compiled pattern; its index in CompiledRulesData::entries is its Hyperscan id.
struct PatternEntry {
  std::uint32_t rule = 0;
  std::uint32_t pattern = 0;  // index in rule.detect.patterns
  unsigned flags = 0;
  std::uint32_t max_width = 0;
  SpanMode span = SpanMode::match;  // match: Hyperscan reports `from`; else recovered from text
  // A leading/trailing `\b` is cut from the expression and checked after the scan instead:
  // Hyperscan runs boundary assertions at every byte of literal-less patterns, which costs
  // several times the scan speed; checking the rare candidates afterwards costs nothing.
  std::string expression;       // what Hyperscan compiles
  bool boundary_start = false;  // checked at `from` (span match only)
  bool boundary_end = false;    // checked at the end Hyperscan reported
  // What the text from a finding's start to the end of a match not yet reported can be made of,
  // as the stream scanner's stable offset needs it (scanner.cpp, TailClass): span_bytes starting
  // with span_first, then a run of span_trail. Computed from the pattern (byte_alphabet.hpp)
  // and, for token/url spans, from what span recovery may take from the text (compiler.cpp).
  ByteSet span_bytes;
  ByteSet span_first;
  ByteSet span_trail;  // disjoint from span_bytes
  // span_at[k]: the bytes at offset k of the span (span_at[0] == span_first).
  std::array<ByteSet, kCheckedPrefix> span_at;
  // What Hyperscan's matches of `expression` are made of (not the recovered span): the shortest
  // match and, per leading offset, the bytes there (every byte when the analysis cannot read the
  // pattern). ShortTextFilter is built from these.
  std::uint32_t min_width = 0;
  std::array<ByteSet, kCheckedPrefix> match_at;
  // The gate (index in kGates) this entry is scanned behind, or -1 (scanned on every byte), and
  // the guaranteed run and widest match (of the expression as compiled) that put it there.
  int gate = -1;
  std::uint32_t gate_run = 0;
  std::uint32_t gate_width = 0;
  // Behind the context gate (then gate is -1): how far a slice reaches on each side of a piece
  // of one of its rule's context words.
  bool context_gated = false;
  std::uint32_t context_reach = 0;
};

// The bytes span recovery treats as part of a token / URL (scanner.cpp, recover_spans).
inline bool is_token_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '+' || c == '/' || c == '.' || c == '@' || c == '%' ||
         c == '-';
}

inline bool is_url_byte(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (std::isspace(u)) return false;
  return std::string_view("\"'`<>()[]{}").find(c) == std::string_view::npos;
}

// Text that could still become (the start of) a finding of some rule: a suffix at most
// `max_width` long made of a run of `bytes` whose k-th byte is in at[k] (at[0] == first), or
// empty, then a run of `trail` bytes (empty for match spans). One per distinct
// (bytes, first, trail, at) of the entries a stream scans for a layer.
struct TailClass {
  ByteSet bytes;
  ByteSet first;
  ByteSet trail;
  std::array<ByteSet, kCheckedPrefix> at;
  std::uint32_t max_width = 0;
};

// The tail classes of one (slot, layer) as the scanner walks them: the classes without a trail
// as bit masks indexed by byte, so that one backward walk over the text tests all of them at
// once; the few with a trail (token/url spans) one by one.
struct TailTable {
  std::size_t words = 0;             // 64-bit words per class mask
  std::vector<std::uint64_t> bytes;  // [b * words + w]: classes whose `bytes` hold b
  std::vector<std::uint64_t> at;     // [(k * 256 + b) * words + w]: classes whose at[k] holds b
  std::vector<std::pair<std::uint32_t, std::uint32_t>> widths;  // (max_width, class), ascending
  std::uint32_t max_width = 0;
  std::vector<TailClass> trailing;
};

// Context words (ContextSpec) are matched case-insensitively, a space in a word matching any run
// of whitespace: whether text byte `c` can stand for word byte `w` (words are lowercase).
inline bool word_byte_matches(unsigned char c, char w) {
  if (w == ' ') return std::isspace(c) != 0;
  return static_cast<char>(std::tolower(c)) == w;
}

// One list of context words (ContextSpec::words or ::exclude) indexed by the text byte each word
// can start at: bit k of first[b] when words[k] can start at byte b. A window is then walked
// once, trying at each byte only the words that can start there, instead of once per word.
// Lists of more than 64 words, or with an empty word, are searched word by word (not usable).
struct WordIndex {
  bool usable = false;
  std::array<std::uint64_t, 256> first{};
};
inline WordIndex index_words(const std::vector<std::string>& words) {
  WordIndex x;
  if (words.size() > 64) return x;
  for (std::size_t k = 0; k < words.size(); ++k) {
    if (words[k].empty()) return WordIndex{};
    for (unsigned b = 0; b < 256; ++b) {
      if (word_byte_matches(static_cast<unsigned char>(b), words[k][0])) {
        x.first[b] |= std::uint64_t{1} << k;
      }
    }
  }
  x.usable = true;
  return x;
}
struct ContextIndex {
  WordIndex words;
  WordIndex exclude;
};

// Short texts (header values, URLs, a system line) cost Hyperscan a fixed setup per scan that is
// many times their scan. Every match of a pattern at least 2 bytes wide holds, at some offset k
// of its first kCheckedPrefix, a byte pair from match_at[k] x match_at[k + 1]: a text with no
// such pair for any pattern of a database that fits in it (min_width <= its length) cannot
// match there, and its scan is skipped. Each pattern contributes the pairs of its most
// selective offset, to the tables of the text lengths it fits in (kShortTextBounds).
inline constexpr std::array<std::size_t, 3> kShortTextBounds = {16, 32, 64};
inline constexpr std::size_t kShortText = kShortTextBounds.back();
struct ShortTextFilter {
  bool usable = false;  // false: some pattern is narrower than 2 bytes
  // Per bound of kShortTextBounds, 65536 bits: bit (first << 8 | second).
  std::array<std::vector<std::uint64_t>, kShortTextBounds.size()> pairs;
  // True when `text` (at most kShortText bytes) may hold a match.
  bool may_match(std::string_view text) const {
    std::size_t t = 0;
    while (kShortTextBounds[t] < text.size()) ++t;
    const std::uint64_t* bits = pairs[t].data();
    for (std::size_t i = 1; i < text.size(); ++i) {
      const unsigned pair = static_cast<unsigned>(static_cast<unsigned char>(text[i - 1])) << 8 |
                            static_cast<unsigned char>(text[i]);
      if (bits[pair >> 6] >> (pair & 63) & 1) return true;
    }
    return false;
  }
};

// A database's entries behind one gate, compiled for block mode on their own.
struct GatedDatabase {
  std::vector<std::uint32_t> entries;  // ascending
  std::uint32_t min_run = 0;           // shortest guaranteed run among them
  std::uint32_t width = 0;             // widest match among them
  HsDatabase block;
};

// A database's entries behind the context gate, compiled for block mode on their own, and the
// pieces of their rules' context words that `block` of the database looks for (literal k has
// the Hyperscan id kContextLiteralId + k).
struct ContextGate {
  std::vector<std::uint32_t> entries;  // ascending
  std::vector<std::string> literals;   // lowercase, no spaces, distinct
  std::vector<std::uint32_t> reach;    // per literal: the widest context_reach of its entries
  HsDatabase block;
};

// How far from a collapsed run of white space a match that the collapse makes, or whose context
// the collapse brings within reach, can lie in the folded text (scanner.cpp, scan_spaced): the
// widest match of an entry whose match can hold a space, or whose rule has context words (a
// word may move closer), plus twice its rule's context window. `wide` covers every such entry;
// `narrow` all but the wide ones whose matches can only begin with a byte of `wide_first`
// (ASCII punctuation: a Markdown image's `!`, an `<img`'s `<`), so a run with no such byte
// within `wide` bytes before it needs only `narrow`. Entries of neither kind (keys, tokens,
// JWTs: no space inside) match the same with or without the collapse.
struct SpacedReach {
  std::uint32_t narrow = 0;
  std::uint32_t wide = 0;
  std::array<std::uint64_t, 2> wide_first{};  // bit b of word b / 64: byte b (< 0x80)
};

struct Database {
  std::vector<std::uint32_t> entries;  // pattern entry ids, ascending
  ShortTextFilter short_text;
  // Block mode: `block` holds the entries behind no gate and the context literals (null when
  // there are neither), gated[g] those behind gate g (null when none), context.block those
  // behind the context gate. Stream mode: `stream` holds every entry.
  HsDatabase block;
  std::array<GatedDatabase, kGateCount> gated;
  ContextGate context;
  HsDatabase stream;             // only when a response-scope slot uses this database (primary
                                 // or extra)
  std::uint32_t max_width = 0;   // longest match of any entry
  std::uint32_t max_within = 0;  // widest context window of any entry's rule
  SpacedReach spaced;
};

// Every Hyperscan database of `db`, in the order the cache stores them (compiler.cpp): block,
// stream, the gated ones by gate, then the context-gated one; null where there is none.
inline std::array<const hs_database_t*, 3 + kGateCount> hs_databases(const Database& db) {
  std::array<const hs_database_t*, 3 + kGateCount> out{db.block.get(), db.stream.get()};
  for (int g = 0; g < kGateCount; ++g) {
    out[static_cast<std::size_t>(2 + g)] = db.gated[static_cast<std::size_t>(g)].block.get();
  }
  out[2 + kGateCount] = db.context.block.get();
  return out;
}

inline constexpr int kSlotCount = kScopeCount * kSurfaceCount;
inline int slot_of(Scope s, Surface f) {
  return static_cast<int>(s) * kSurfaceCount + static_cast<int>(f);
}

// A slot scans at most this many databases (primary, extra).
inline constexpr int kMaxSlotDbs = 2;

struct CompiledRulesData {
  Pack pack;
  CompileOptions options;
  std::vector<PatternEntry> entries;
  std::vector<std::uint32_t> rule_max_width;  // per rule: longest match of its patterns
  std::vector<std::uint32_t> rule_within;     // per rule: context window (0 without context)
  std::vector<std::vector<std::uint32_t>> rule_entries;  // per rule: its pattern entry ids
  std::vector<ContextIndex> rule_context;                // per rule: its context words, indexed
  std::vector<std::uint8_t> rule_layers;                 // per rule: bit (1 << Layer)
  // Per rule: its validator scores a window (scores_window): a later start inside its match is
  // not tried again, and cues within kModelStride bytes after a flagged window are not scored
  // (decide_candidates), since the model reads the window, not the match.
  std::vector<std::uint8_t> window_model;
  std::vector<Action> actions;              // per rule: effective action
  std::vector<std::uint32_t> policy_rules;  // non-pattern rules by priority
  // What a (scope, surface) scans: its primary database (index or -1 when no pattern applies
  // there) and, when its pattern set is another slot's set plus a few patterns, an extra
  // database of those few (or -1). A slot's set is the union of the two: the shared part is
  // compiled once (the tools surface is the body's set plus the tool-only rules).
  std::array<int, kSlotCount> slot_db{};
  std::array<int, kSlotCount> slot_extra_db{};
  std::vector<Database> dbs;
  // Per (response-scope slot, layer), slot * kLayerCount + layer: the tail classes of the
  // entries of rules that apply to that layer (empty for request-scope slots: they never
  // stream).
  std::array<TailTable, kSlotCount * kLayerCount> stream_tails;
  HsScratch prototype;  // allocated for every database; Scanners clone it
  std::uint64_t generation = 0;
  std::array<unsigned char, 32> digest{};  // SHA-256 of the normalized pack + options

  // The databases slot `slot` scans (primary first); the count is 0, 1 or 2.
  int slot_dbs(int slot, std::array<int, kMaxSlotDbs>& out) const {
    int n = 0;
    for (int db :
         {slot_db[static_cast<std::size_t>(slot)], slot_extra_db[static_cast<std::size_t>(slot)]}) {
      if (db >= 0) out[static_cast<std::size_t>(n++)] = db;
    }
    return n;
  }
  // Longest match and widest context window over the databases of `slot`.
  struct Widths {
    std::uint32_t match = 0;
    std::uint32_t within = 0;
  };
  Widths slot_widths(int slot) const {
    std::array<int, kMaxSlotDbs> ids{};
    Widths w;
    for (int k = 0, n = slot_dbs(slot, ids); k < n; ++k) {
      const Database& db = dbs[static_cast<std::size_t>(ids[static_cast<std::size_t>(k)])];
      w.match = std::max(w.match, db.max_width);
      w.within = std::max(w.within, db.max_within);
    }
    return w;
  }
};

}  // namespace edgeward::rules
