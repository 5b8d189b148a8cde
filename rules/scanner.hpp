#pragma once
// Scanning text against a CompiledRules, in block mode (a whole text) and stream mode (a text
// that arrives in chunks, e.g. SSE deltas of a streamed response).
//
// Who calls: each worker thread owns one Scanner (it owns the thread's Hyperscan scratch) and
// uses it for every request that thread serves. A Scanner is not thread-safe; a CompiledRules
// is, and may be used by many Scanners at once.
//
// Buffers: scan() and feed() read the caller's text only during the call. Findings are appended
// to the caller's vector (never cleared here); their string views point into the CompiledRules.
//
// Rules:
//  - A candidate (a Hyperscan match) becomes a Finding only when its rule applies to the layer,
//    its validator accepts it, its min_entropy is reached, it is not in the allow list, no
//    `context.exclude` word is near it and, when `context.required`, a context word is near it.
//  - Several ends for one (rule, start): the longest accepted end wins (one finding per rule and
//    start). A candidate inside an accepted finding of the same rule is dropped.
//  - Findings appended by one call are sorted by (priority, start, rule index).
//  - Stream mode finds exactly what block mode finds on the concatenated text, with the same
//    absolute offsets, however the text is chunked.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "rules/engine.hpp"
#include "rules/gate_slices.hpp"
#include "rules/text_fold.hpp"

struct hs_scratch;
struct hs_stream;

namespace edgeward::rules {

struct Database;
struct CompiledRulesData;

// Per rule, what its findings so far leave for the next ones (scanner.cpp, decide_candidates).
struct RuleProgress {
  // A candidate ending by here adds nothing: it lies in a finding or a model stride.
  std::uint64_t skip_to = 0;
  // The rule's last finding: a candidate overlapping it joins it.
  std::uint64_t found_start = 0;
  std::uint64_t found_end = 0;
  // Where its first match starts (before found_start when the finding begins where the one
  // before it ended, a union having reached kMaxPatternWidth).
  std::uint64_t found_from = 0;
};

struct RawMatch {
  std::uint32_t id;  // pattern entry (Hyperscan id)
  std::uint64_t from;
  std::uint64_t to;
  std::uint64_t hs_to;  // the end Hyperscan reported (`to` may be trimmed by span recovery)
};

// One streamed text (one response surface and layer). Open with Scanner::open_stream, feed the
// chunks in order with Scanner::feed, end with Scanner::finish. Owned by the request; movable;
// dropping an unfinished stream frees its Hyperscan state without reporting.
class ScanStream {
 public:
  ScanStream(ScanStream&& other) noexcept;
  ScanStream& operator=(ScanStream&& other) noexcept;
  ScanStream(const ScanStream&) = delete;
  ScanStream& operator=(const ScanStream&) = delete;
  ~ScanStream();

  // Bytes fed so far.
  std::uint64_t bytes_seen() const { return bytes_seen_; }
  bool finished() const { return finished_; }

  // Text before this absolute offset is final: no finding reported later (by feed or finish)
  // starts before it, no finding already reported straddles it, and it sits on a UTF-8 code
  // point boundary. A holdback consumer may redact and release [released, stable_offset()) with
  // the findings reported so far. After finish() it equals bytes_seen().
  // Tight: besides the starts of candidates still pending (waiting for a longer end or for their
  // trailing context window), it trails bytes_seen() only by the longest suffix that could
  // still be the start of a match of a rule applying to the stream's layer: a suffix made of the
  // bytes that rule's matches can contain, whose first bytes (kCheckedPrefix) are where a match
  // can have them, no longer than its widest pattern; for token/url spans, the last run of span
  // bytes and what follows it (compiled_internal.hpp, TailClass). A rule whose pattern the
  // analysis cannot read (byte_alphabet.hpp) holds up to its width, as every rule did before.
  // Bound: bytes_seen() - stable_offset() <= max_match_length + max context window + 8, plus,
  // while later matches of a rule still join its last finding, that finding's length (at most
  // kMaxPatternWidth; feed).
  std::uint64_t stable_offset() const { return stable_; }

  // The start of the earliest candidate still being decided (a longer end or its trailing
  // context window may follow), or bytes_seen() when none is. A consumer that releases text
  // before stable_offset() for a bound of its own can still keep these back: they are whole
  // matches, which would otherwise leave before their rule has decided on them.
  std::uint64_t pending_start() const;

  const CompiledRules& rules() const { return *rules_; }

 private:
  friend class Scanner;
  ScanStream() = default;
  void release();

  std::shared_ptr<const CompiledRules> rules_;
  int slot_ = -1;
  int db_count_ = 0;  // databases of the slot: 0 (no patterns there), 1 or 2
  std::uint8_t layer_bit_ = 0;
  std::size_t tails_ = 0;                       // index in CompiledRulesData::stream_tails
  hs_stream* streams_[2] = {nullptr, nullptr};  // one per database of the slot
  std::uint64_t bytes_seen_ = 0;
  std::uint64_t stable_ = 0;
  bool finished_ = false;
  // Retained text [history_base_, bytes_seen_): what validators and context words still need.
  std::string history_;
  std::uint64_t history_base_ = 0;
  std::vector<RawMatch> pending_;                                  // candidates not yet decidable
  std::vector<RuleProgress> progress_;                             // per rule
  std::vector<std::pair<std::uint64_t, std::uint64_t>> reported_;  // spans near stable_
};

class Scanner {
 public:
  Scanner();
  ~Scanner();
  Scanner(Scanner&& other) noexcept;
  Scanner& operator=(Scanner&& other) noexcept;
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Scans `text` as (scope, surface, layer) and appends the findings to `out`. A text holding
  // characters that hide matches (rules/text_fold.hpp) is scanned again folded, and what only
  // the folded text holds is reported at its place in `text`. In a request, runs of white space
  // between words fold to one space too (Spaces::kCollapse); a text whose only fold is such
  // runs is scanned again only around them (scan_spaced). The findings of a text of up to
  // kCachedTextBytes are kept (kCachedTexts of them, per rule set, scope, surface and layer):
  // the same text scanned again is answered from them.
  // Error: "rules.scan_failed" (Hyperscan error), "rules.scratch_failed".
  Status scan(const CompiledRules& rules, Scope scope, Surface surface, Layer layer,
              std::string_view text, std::vector<Finding>& out);

  // Short texts come back with every request: the model's name, the URL, the headers an SDK
  // sends, an agent's tool definitions. Scanning one costs ~2,500 instructions before its first
  // byte (a Hyperscan call per database); looking it up costs a hash and a compare.
  static constexpr std::size_t kCachedTextBytes = 512;
  static constexpr std::size_t kCachedTexts = 64;

  // Starts a streamed text. The stream keeps `rules` alive until it is destroyed.
  // Errors: "rules.no_stream_database" (scope is not response: only responses stream),
  // "rules.scan_failed".
  Result<ScanStream> open_stream(std::shared_ptr<const CompiledRules> rules, Scope scope,
                                 Surface surface, Layer layer);
  // Feeds the next chunk; appends every finding that became final. Offsets are absolute.
  // A finding that a later match of its rule overlaps grows to their union (up to
  // kMaxPatternWidth, as in a block scan): the stream then reports it again, whole, with the same
  // rule and start and a larger end; grow_or_add keeps the latest.
  Status feed(ScanStream& stream, std::string_view chunk, std::vector<Finding>& out);
  // Ends the text: reports matches that needed the end of data and every pending candidate.
  Status finish(ScanStream& stream, std::vector<Finding>& out);

 private:
  Status prepare(const CompiledRules& rules);
  // Scans the gated databases of `db` on their slices of `text` (compiled_internal.hpp, kGates),
  // appending to raw_ with offsets in `text`.
  Status scan_gated(const Database& db, std::string_view text);
  // Scans the context-gated database of `db` on the slices of `text` around the context pieces
  // its block scan found (context_hits_; compiled_internal.hpp, ContextGate), appending to raw_.
  Status scan_context(const Database& db, std::string_view text);
  // Scans the block databases of `dbs` (the first n; gated ones whole) on text[start, limit)
  // (absolute offsets; `text` starts at `base`), appending the matches that begin at `start`.
  Status scan_from(const CompiledRulesData& d, const std::array<int, 2>& dbs, int n,
                   std::string_view text, std::uint64_t base, std::uint64_t start,
                   std::uint64_t limit, std::vector<RawMatch>& found);
  Status process_stream(ScanStream& s, bool final, std::vector<Finding>& out);
  // scan() without the cache of short texts.
  Status scan_uncached(const CompiledRules& rules, const std::array<int, 2>& dbs, int n,
                       Scope scope, Layer layer, std::string_view text, std::vector<Finding>& out);
  // One block scan of `text` with the slot's databases `dbs` (the first n).
  Status scan_block(const CompiledRules& rules, const std::array<int, 2>& dbs, int n, Layer layer,
                    std::string_view text, std::vector<Finding>& out);
  // The second look at `text`, appending to folded_findings_ what the folded text holds, in
  // offsets of `text`: scan_folded folds and scans it whole; scan_spaced, for a text whose only
  // fold is runs of spaces between words, folds and scans only the slices around those runs,
  // and the whole text when a finding touches a slice's cut edge (scanner.cpp).
  Status scan_folded(const CompiledRules& rules, const std::array<int, 2>& dbs, int n, Layer layer,
                     std::string_view text, Spaces spaces);
  Status scan_spaced(const CompiledRules& rules, const std::array<int, 2>& dbs, int n, Layer layer,
                     std::string_view text);
  // Scans folded_ (the fold of text[from, to)), appending its findings to folded_findings_ at
  // their place in the text. With `cut` (a slice of scan_spaced): only findings near one of
  // spaced_runs_ count, and one at an edge of the piece that is not an edge of the text (of
  // text_size bytes) sets it and stops.
  Status scan_piece(const CompiledRules& rules, const std::array<int, 2>& dbs, int n, Layer layer,
                    std::size_t from, std::size_t to, std::size_t text_size, bool* cut);

  hs_scratch* scratch_ = nullptr;
  std::uint64_t prepared_generation_ = 0;
  std::vector<RawMatch> raw_;  // reused across calls: steady state allocates nothing
  // Likewise: per gate, the slices its gated database scans.
  std::array<std::vector<TextSlice>, kMaxSliceSpecs> slices_;
  // Likewise: the context pieces a block scan found (end offset, literal index) and the slices
  // the context-gated database scans.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> context_hits_;
  bool context_overflow_ = false;  // more pieces than kept: the gated database scans it all
  std::vector<TextSlice> context_slices_;
  FoldedText folded_;                     // the second look at a text (or a slice of it)
  std::vector<Finding> folded_findings_;  //   and what it found, in offsets of the text
  std::vector<Finding> slice_findings_;   // what one scan of folded_ found, in its offsets
  // scan_spaced's slices: [from, to) of the text, around runs from `first` to `last`, each with
  // `reach` folded bytes of it on both sides (or the text's edge).
  struct SpacedSlice {
    std::size_t from;
    std::size_t to;
    std::size_t first;
    std::size_t last;
    std::size_t reach;
  };
  std::vector<SpacedSlice> spaced_slices_;
  // Findings of short texts (scan): direct-mapped by a hash of the text and its key; an entry
  // answers only for the same rule set (generations are never reused), key and bytes.
  struct CachedScan {
    std::uint64_t generation = 0;  // 0: empty
    Scope scope = Scope::request;
    Surface surface = Surface::body;
    Layer layer = Layer::pre_template;
    std::string text;
    std::vector<Finding> findings;
  };
  std::vector<CachedScan> cache_;
  std::vector<std::uint64_t> spaced_runs_;  // the collapsed runs of the slice being scanned
};

// Adds `f` to `findings`, or, when it is reported again (Finding::reported_again), grows the
// finding of the same rule and start in place (Scanner::feed). Only such a finding looks through
// the list (at most one per rule and feed call); others are appended.
void grow_or_add(std::vector<Finding>& findings, const Finding& f);

// Decides one candidate (validator, entropy, allow list, context). `text` holds the candidate
// at [from - base, to - base). Exposed for tests and for rules lint/test tooling.
bool accept_candidate(const CompiledRules& rules, std::uint32_t rule_index, std::string_view text,
                      std::uint64_t base, std::uint64_t from, std::uint64_t to,
                      bool& context_matched);

}  // namespace edgeward::rules
