#include "daemon/inspect/stream_inspector.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>

#include "daemon/inspect/body_rewrite.hpp"
#include "rules/json_escapes.hpp"
#include "rules/policy.hpp"
#include "rules/redaction.hpp"
#include "rules/text_fold.hpp"

namespace edgeward::inspect {

namespace {
// What an unparseable stream is blocked as: no rule decided it, the gateway did (fail closed).
constexpr std::string_view kUnparseableCode = "POLICY.CUSTOM";
constexpr std::string_view kUnparseableRule = "unparseable stream";

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}
}  // namespace

struct StreamInspector::Channel {
  ChannelKey key;
  MatchedIn matched_in = MatchedIn::kBody;
  Layer layer = Layer::kPreTemplate;
  std::optional<rules::ScanStream> stream;  // none: no pattern looks at this surface
  std::uint64_t released = 0;               // absolute offset of the first held byte
  std::uint64_t seen = 0;
  std::string pending;                     // text [released, seen)
  std::vector<rules::Finding> redactions;  // redact findings not yet wholly released
  bool finished = false;
  // The end of the text already released (at least tail_limit bytes of it when there are, at
  // most twice that: trimmed in steps, not on every delta; unredacted), so that a channel
  // continuing this key (text after a flush) scans it again in front of its own. There, the
  // findings this channel acted on are in `handled` and are not acted on again; any other
  // finding that starts in the tail is a match across the flush (or one whose context came
  // after it) whose beginning already left, which blocks.
  std::string tail;
  // The last delta event of this channel: held text leaves in a copy of it.
  std::string tmpl_event;
  std::string tmpl_payload;
  std::size_t tmpl_begin = 0;
  std::size_t tmpl_end = 0;
  // Generic streams: the JSON path of the strings, and the findings (rule, start, end) the
  // event-by-event scan already acted on, so the stream does not act on them twice.
  std::string path;
  std::vector<std::array<std::uint64_t, 3>> handled;
  // The channel's text with hidden characters folded (rules/text_fold.hpp), scanned by a stream
  // of its own from the first delta that held one: "AKIA<U+200B>…" in two deltas.
  struct Folded {
    explicit Folded(rules::ScanStream s) : stream(std::move(s)) {}
    rules::ScanStream stream;
    std::uint64_t base = 0;  // the folded offset of raw_begin.front()
    // For each folded byte from `base` on: the raw [begin, end) of the bytes it stands for.
    std::deque<std::uint64_t> raw_begin, raw_end;
    // The raw offset folding began at: a finding that ends by it lies in text the channel's
    // own stream judged (the recent text the folded stream is primed with held nothing to fold).
    std::uint64_t since = 0;
    // Raw text not read yet: the priming text, or an escape a delta ended inside; it ends where
    // the channel's text does.
    std::string carry;
  };
  std::unique_ptr<Folded> folded;
  bool tail_hides = false;  // the tail it continues holds a hidden character: fold at once
};

StreamInspector::StreamInspector(std::shared_ptr<const rules::CompiledRules> rules,
                                 rules::Scanner& scanner, Route route, StreamFormat format,
                                 std::size_t holdback_bytes, EventRecorder& events)
    : rules_(std::move(rules)),
      scanner_(scanner),
      route_(route),
      answer_dialect_(route.dialect),
      format_(format),
      holdback_(holdback_bytes),
      events_(events),
      generic_(route.dialect == Dialect::kGeneric || route.endpoint == Endpoint::kUnknown) {
  if (rules_) {
    // What a match across a flush can reach back into: the widest pattern and a context
    // window (the bound of ScanStream::stable_offset), capped.
    constexpr std::size_t kContextReach = 512;
    constexpr std::size_t kMaxTail = 64 * 1024;
    const std::size_t widest =
        std::max(rules_->max_match_length(rules::Scope::response, rules::Surface::body),
                 rules_->max_match_length(rules::Scope::response, rules::Surface::tools));
    tail_limit_ = std::min(kMaxTail, std::max(holdback_, widest) + kContextReach);
  }
}

StreamInspector::~StreamInspector() = default;

std::uint64_t StreamInspector::held_bytes() const {
  std::uint64_t n = 0;
  for (const auto& ch : channels_) n += ch->pending.size();
  return n + held_text_bytes_;
}

void StreamInspector::render(std::string_view event_name, std::string_view payload,
                             std::string& out, std::string_view extra) const {
  if (format_ == StreamFormat::kNdjson) {
    out.append(payload);
    out.push_back('\n');
    return;
  }
  out.append(extra);
  if (!event_name.empty()) {
    out.append("event: ");
    out.append(event_name);
    out.push_back('\n');
  }
  // A payload that came in several `data` lines holds their '\n's: one line each again.
  for (;;) {
    const std::size_t nl = payload.find('\n');
    out.append("data: ");
    out.append(payload.substr(0, nl));
    out.push_back('\n');
    if (nl == std::string_view::npos) break;
    payload.remove_prefix(nl + 1);
  }
  out.push_back('\n');
}

bool StreamInspector::scan_unread(std::string_view unread, std::string& out) {
  if (unread.empty() || !rules_) return true;
  scratch_.clear();
  bytes_scanned_ += unread.size();
  if (!scanner_
           .scan(*rules_, rules::Scope::response, rules::Surface::body, rules::Layer::pre_template,
                 unread, scratch_)
           .ok()) {
    block_unparseable(out);
    return false;
  }
  std::vector<rules::Finding> found = std::move(scratch_);
  scratch_.clear();
  // No rewriting of these lines: a redact finding ends the stream like a block.
  return handle(found, MatchedIn::kBody, Layer::kPreTemplate, nullptr, 0, out);
}

StreamStep StreamInspector::block(const rules::Finding& f, std::string& out) {
  std::string uid(events_.uid_of(f.rule_index));
  events_.set_action(f.rule_index, store::Action::kBlock);
  block_offset_ = out.size();
  out.append(stream_block_event(answer_dialect_, format_, f.reason_code, f.rule_name, uid));
  block_reason_.assign(f.reason_code);
  ended_ = true;
  for (auto& ch : channels_) ch->pending.clear();  // held text of a blocked stream never leaves
  return StreamStep::kEnd;
}

StreamStep StreamInspector::fail(std::string_view message, std::string_view code,
                                 std::string& out) {
  if (ended_) return StreamStep::kEnd;
  // Held text waits for what could extend a match; nothing will now, as at a normal end. Each
  // of these returns false when its last scan blocked (the block's event ended the stream).
  if (check_tool_names(StreamEventInfo{}, true, out) && flush_all(out, nullptr) &&
      finish_generic(out)) {
    out.append(stream_failure_event(answer_dialect_, format_, message, code));
    ended_ = true;
  }
  return StreamStep::kEnd;
}

StreamStep StreamInspector::block_unparseable(std::string& out) {
  block_offset_ = out.size();
  out.append(stream_block_event(answer_dialect_, format_, kUnparseableCode, kUnparseableRule, {}));
  block_reason_.assign(kUnparseableCode);
  ended_ = true;
  for (auto& ch : channels_) ch->pending.clear();
  return StreamStep::kEnd;
}

bool StreamInspector::handle(std::vector<rules::Finding>& findings, MatchedIn in, Layer layer,
                             std::vector<rules::Finding>* redactions, std::uint64_t released,
                             std::string& out) {
  if (findings.empty()) return true;
  for (const rules::Finding& f : findings) {
    events_.record(*rules_, f, store::Scope::kResponse, in, layer);
  }
  rules::Decision d = rules::decide(findings);
  if (d.verdict == rules::Verdict::block) {
    block(findings[*d.deciding], out);
    return false;
  }
  for (const rules::Finding& f : findings) {
    if (f.action != rules::Action::redact) continue;
    if (redactions == nullptr) {
      // Text we cannot rewrite in place: the secret must not leave, so the redact blocks.
      block(f, out);
      return false;
    }
    if (f.start < released) {
      // The match is longer than the hold-back: its beginning already reached the client.
      // Redacting the rest would pass a partial secret off as redacted; end the stream as a
      // block does, so the client sees an error rather than a truncated secret.
      block(f, out);
      return false;
    }
    rules::grow_or_add(*redactions, f);  // a finding reported again grows (Scanner::feed)
  }
  return true;
}

bool StreamInspector::check_tools(const std::vector<std::string>& tools, std::string& out) {
  if (tools.empty() || !rules_) return true;
  std::vector<std::string_view> names(tools.begin(), tools.end());
  scratch_.clear();
  rules::check_tools(*rules_, rules::Scope::response, names, scratch_);
  std::vector<rules::Finding> found = std::move(scratch_);
  scratch_.clear();
  return handle(found, MatchedIn::kTools, Layer::kToolCall, nullptr, 0, out);
}

// Channels (finished ones included, for their tails) one stream may open.
constexpr std::size_t kMaxChannels = 1024;
// Providers cap function names at 64 bytes; a longer joined name is not a tool call.
constexpr std::size_t kMaxToolName = 1024;

bool StreamInspector::check_tool_names(const StreamEventInfo& info, bool at_end, std::string& out) {
  for (const auto& part : info.tool_name_parts) {
    auto it = std::find_if(tool_names_.begin(), tool_names_.end(),
                           [&](const ToolName& t) { return t.key == part.key; });
    if (it == tool_names_.end()) {
      if (tool_names_.size() == kMaxChannels) {
        block_unparseable(out);
        return false;
      }
      it = tool_names_.insert(tool_names_.end(), ToolName{part.key, {}, 0});
    }
    it->name += part.text;
    if (it->name.size() > kMaxToolName) {
      block_unparseable(out);
      return false;
    }
  }
  std::vector<std::string> due;
  for (ToolName& t : tool_names_) {
    if (t.name.size() == t.checked) continue;
    bool known = at_end || info.ends_all ||
                 std::find(info.ends_groups.begin(), info.ends_groups.end(), t.key.group) !=
                     info.ends_groups.end();
    for (const StreamDelta& d : info.deltas) {
      if (d.key == t.key && !d.text.empty()) known = true;
    }
    for (const auto& part : info.tool_name_parts) {
      if (part.key.group == t.key.group && part.key.part > t.key.part) known = true;
    }
    if (!known) continue;
    due.push_back(t.name);
    t.checked = t.name.size();
  }
  return check_tools(due, out);
}

StreamInspector::Channel* StreamInspector::channel(const StreamDelta& d, std::string& out) {
  for (auto& ch : channels_) {
    if (!ch->finished && ch->key == d.key) return ch.get();
  }
  // Text for a key whose channel a flush ended (another part's event, an end marker, a tool
  // call in between): the client joins it to what that channel released, so the new channel
  // scans the released tail again first. Starting afresh let a secret split around any flush
  // trigger pass whole (a review's finding, 2026-11-24).
  std::string tail;
  std::vector<std::array<std::uint64_t, 3>> carried;
  for (auto& ch : channels_) {
    if (!ch->finished || ch->key != d.key) continue;
    tail = std::move(ch->tail);
    if (tail.size() > tail_limit_) tail.erase(0, tail.size() - tail_limit_);
    // Offsets of the old stream, moved to the new one's: its tail starts at 0 there.
    const std::uint64_t base = ch->released - tail.size();
    for (const auto& h : ch->handled) {
      if (h[1] >= base) carried.push_back({h[0], h[1] - base, h[2] - base});
    }
  }
  std::erase_if(channels_, [&](const auto& ch) { return ch->finished && ch->key == d.key; });
  if (channels_.size() >= kMaxChannels) {
    // Each channel costs a Hyperscan stream and a turn of every event's loops: an upstream
    // inventing a new index per event (tens of thousands) stalled the worker for seconds. No
    // model streams this many texts at once; the stream is refused, never passed unscanned.
    block_unparseable(out);
    return nullptr;
  }
  auto ch = std::make_unique<Channel>();
  ch->key = d.key;
  ch->matched_in = d.matched_in;
  ch->layer = d.layer;
  rules::Surface surface = to_rules(d.matched_in);
  if (rules_ && rules_->has_patterns(rules::Scope::response, surface)) {
    auto s = scanner_.open_stream(rules_, rules::Scope::response, surface, to_rules(d.layer));
    if (s.ok()) ch->stream.emplace(std::move(s).value());
  }
  channels_.push_back(std::move(ch));
  Channel& fresh = *channels_.back();
  if (!tail.empty() && fresh.stream) {
    fresh.seen = tail.size();
    fresh.released = tail.size();
    fresh.tail = tail;
    fresh.tail_hides =
        rules::has_hidden_characters(tail) || tail.find_first_of("\\\x1b") != std::string::npos;
    fresh.handled = std::move(carried);
    scratch_.clear();
    if (!scanner_.feed(*fresh.stream, tail, scratch_).ok()) {
      block_unparseable(out);
      return nullptr;
    }
    std::vector<rules::Finding> found = std::move(scratch_);
    scratch_.clear();
    if (!handle_continued(fresh, found, out)) return nullptr;
  }
  return &fresh;
}

bool StreamInspector::handle_continued(Channel& ch, std::vector<rules::Finding>& found,
                                       std::string& out) {
  if (!ch.handled.empty()) drop_handled(ch, found);
  // Remembered for a channel that may continue this one; old entries fall out of any tail.
  for (const rules::Finding& f : found) ch.handled.push_back({f.rule_index, f.start, f.end});
  if (ch.handled.size() > 256) ch.handled.erase(ch.handled.begin(), ch.handled.end() - 128);
  if (ch.layer == Layer::kToolCall) {
    // A tool call's arguments are JSON text the tool parses: a redaction that takes in a quote
    // (the password rules read `"password":"…"` whole) or starts inside an escape would cut
    // it, so such a match ends the stream as a block does (as a request or a buffered answer
    // is blocked then).
    for (rules::Finding& f : found) {
      if (f.action != rules::Action::redact || f.start < ch.released || f.end > ch.seen) continue;
      const auto from = static_cast<std::size_t>(f.start - ch.released);
      const std::string_view span(ch.pending.data() + from,
                                  static_cast<std::size_t>(f.end - f.start));
      // Backslashes right before the match, in the held text and then in the released tail.
      std::size_t slashes = 0;
      while (slashes < from && ch.pending[from - 1 - slashes] == '\\') ++slashes;
      if (slashes == from) {
        for (std::size_t k = ch.tail.size(); k > 0 && ch.tail[k - 1] == '\\'; --k) ++slashes;
      }
      if (span.find('"') != std::string_view::npos || slashes % 2 == 1) {
        f.action = rules::Action::block;
      }
    }
  }
  return handle(found, ch.matched_in, ch.layer, &ch.redactions, ch.released, out);
}

bool StreamInspector::feed_channel(Channel& ch, std::string_view text, bool final,
                                   std::string& out) {
  ch.pending.append(text);
  ch.seen += text.size();
  bytes_scanned_ += text.size();
  if (!ch.stream) return true;
  scratch_.clear();
  Status st = text.empty() ? Status{} : scanner_.feed(*ch.stream, text, scratch_);
  if (st.ok() && final) st = scanner_.finish(*ch.stream, scratch_);
  if (!st.ok()) {
    // A scan that failed cannot vouch for the text: fail closed.
    block_unparseable(out);
    return false;
  }
  std::vector<rules::Finding> found = std::move(scratch_);
  scratch_.clear();
  if (!handle_continued(ch, found, out)) return false;
  return feed_folded(ch, text, final, out);
}

namespace {
// The raw offset of derived offset `x` (see Channel::Folded). Past the mapped text it is
// `raw_read`, the end of the raw text the derived text stands for (an escape still in the carry
// is not read yet, so it is not stable). The map is trimmed only below offsets the second
// stream can still report, so `x` is never before it.
std::uint64_t raw_of(const std::deque<std::uint64_t>& raw_begin, std::uint64_t base,
                     std::uint64_t x, std::uint64_t raw_read) {
  if (raw_begin.empty() || x >= base + raw_begin.size()) return raw_read;
  if (x < base) return raw_begin.front();  // not reached (see above); the earliest known
  return raw_begin[static_cast<std::size_t>(x - base)];
}
}  // namespace

std::size_t StreamInspector::derive(std::string_view text, rules::EscapeReading reading,
                                    bool final) {
  if (text.find_first_of("\\\x1b") == std::string_view::npos) {  // nothing to decode
    if (!rules::fold_hidden_characters(text, derived_)) derived_.text.clear();
    return text.size();
  }
  const std::size_t consumed = rules::unescape(reading, text, final, unescaped_);
  if (!rules::fold_hidden_characters(unescaped_.text, fold_scratch_)) {
    derived_.text.clear();
    return consumed;
  }
  derived_.text.swap(fold_scratch_.text);
  derived_.begin.clear();
  derived_.end.clear();
  for (std::size_t k = 0; k < derived_.text.size(); ++k) {
    derived_.begin.push_back(unescaped_.begin[fold_scratch_.begin[k]]);
    derived_.end.push_back(unescaped_.end[fold_scratch_.end[k] - 1]);
  }
  return consumed;
}

bool StreamInspector::feed_folded(Channel& ch, std::string_view text, bool final,
                                  std::string& out) {
  const std::uint64_t at = ch.seen - text.size();  // the raw offset of `text`
  // Escapes are decoded too: a tool call's arguments are JSON text, read as the tool that parses
  // them reads it (`\n` glued to a key at the start of a line, `\u0041KIA…`); an answer's text
  // as a model or a reader reads escapes written out in it, at any depth (rules/json_escapes.hpp).
  const rules::EscapeReading reading =
      ch.layer == Layer::kToolCall ? rules::EscapeReading::kJson : rules::EscapeReading::kText;
  if (!ch.folded) {
    if (text.empty()) return true;  // review10: a final delta with text is judged too
    std::string_view before(ch.pending.data(), ch.pending.size() - text.size());
    // A backslash (an escape written out) or an ESC (a terminal's colour code) asks for the
    // decoded reading.
    bool start = ch.tail_hides || text.find_first_of("\\\x1b") != std::string_view::npos;
    auto non_ascii = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
    // The recent bytes before this delta, as views (a delta of ASCII after ASCII copies
    // nothing): a word of look-alikes is judged by the ASCII word after it (text_fold.hpp),
    // which may come in this delta, all ASCII.
    constexpr std::size_t kProbeReach = 64;
    const std::string_view before_recent =
        before.size() > kProbeReach ? before.substr(before.size() - kProbeReach) : before;
    const std::string_view tail_recent = std::string_view(ch.tail).substr(
        ch.tail.size() - std::min(ch.tail.size(), kProbeReach - before_recent.size()));
    if (!start && (std::any_of(tail_recent.begin(), tail_recent.end(), non_ascii) ||
                   std::any_of(before_recent.begin(), before_recent.end(), non_ascii) ||
                   std::any_of(text.begin(), text.end(), non_ascii))) {
      // The block scan's test (text_fold.hpp), with the bytes before this delta in front: a
      // hidden character that ended the previous delta is judged by the token byte after it.
      // The probe reaches back to an ASCII byte (so it does not start inside a word the block
      // scan sees whole), at most kProbeReach bytes.
      std::string probe(tail_recent);
      probe.append(before_recent);
      std::size_t from = probe.size() > 16 ? probe.size() - 16 : 0;
      while (from > 0 && non_ascii(probe[from - 1])) --from;
      probe.erase(0, from);
      while (!probe.empty() && is_continuation(probe.front())) probe.erase(0, 1);
      probe.append(text);
      // A delta that ends with a dropped character or a look-alike letter, or with one and up
      // to eight bytes of ASCII space or punctuation (text_fold.cpp's kWordGap), cannot wait
      // for what comes after: the raw stream has just let the token before it go (the
      // character cut it; a word of look-alikes is judged by the ASCII word after it), so fold
      // from here. (A Russian answer folds from its first such delta: a stream's text comes at
      // the model's pace, and a second stream of it costs little.)
      std::size_t last_cp = text.size();
      for (std::size_t gap = 0; gap < 8 && last_cp > 0; ++gap) {
        const auto c = static_cast<unsigned char>(text[last_cp - 1]);
        if (c >= 0x80 || std::isalnum(c) != 0) break;
        --last_cp;
      }
      while (last_cp > 0 && is_continuation(text[last_cp - 1])) --last_cp;
      if (last_cp > 0) --last_cp;
      std::size_t cp_end = last_cp + 1;
      while (cp_end < text.size() && is_continuation(text[cp_end])) ++cp_end;
      const bool ends_hidden =
          last_cp < text.size() && non_ascii(text[last_cp]) &&
          rules::fold_hidden_characters(text.substr(last_cp, cp_end - last_cp), fold_scratch_) &&
          (fold_scratch_.text.empty() ||
           (fold_scratch_.text.size() == 1 &&
            std::isalnum(static_cast<unsigned char>(fold_scratch_.text[0])) != 0));
      start = ends_hidden || rules::has_hidden_characters(probe);
    }
    if (!start) return true;
    auto s = scanner_.open_stream(rules_, rules::Scope::response, to_rules(ch.matched_in),
                                  to_rules(ch.layer));
    if (!s.ok()) {
      block_unparseable(out);
      return false;
    }
    ch.folded = std::make_unique<Channel::Folded>(std::move(s).value());
    // Primed with the recent text (the released tail and what is held), read the same way, so
    // a match that began before this delta is whole in the derived text.
    std::string recent = ch.tail;
    recent.append(before);
    if (recent.size() > tail_limit_) {
      std::size_t cut = recent.size() - tail_limit_;
      while (cut < recent.size() && is_continuation(recent[cut])) ++cut;
      recent.erase(0, cut);
    }
    ch.folded->carry = std::move(recent);
    ch.folded->since = at;
  }
  Channel::Folded& fd = *ch.folded;
  // The text not read yet: what an unfinished escape left, then this delta.
  const std::uint64_t from = at - fd.carry.size();
  fd.carry.append(text);
  const std::size_t consumed = derive(fd.carry, reading, final);
  for (std::size_t k = 0; k < derived_.text.size(); ++k) {
    fd.raw_begin.push_back(from + derived_.begin[k]);
    fd.raw_end.push_back(from + derived_.end[k]);
  }
  fd.carry.erase(0, consumed);
  scratch_.clear();
  Status st = derived_.text.empty() ? Status{} : scanner_.feed(fd.stream, derived_.text, scratch_);
  if (st.ok() && final) st = scanner_.finish(fd.stream, scratch_);
  if (!st.ok()) {
    block_unparseable(out);
    return false;
  }
  std::vector<rules::Finding> found = std::move(scratch_);
  scratch_.clear();
  // What the channel's own stream judged: matches wholly in the primed text whose bytes it read
  // as they are. One that only the folding shows (a word of look-alikes judged by the ASCII
  // word after it, in this delta) is new: acted on, or the stream ends if it already left.
  std::erase_if(found, [&](const rules::Finding& f) {
    if (f.start < fd.base || f.end > fd.base + fd.raw_end.size() || f.end <= f.start) return false;
    const auto first = static_cast<std::size_t>(f.start - fd.base);
    const auto last = static_cast<std::size_t>(f.end - fd.base);
    if (fd.raw_end[last - 1] > fd.since) return false;
    for (std::size_t k = first; k < last; ++k) {
      const bool one_byte = fd.raw_end[k] - fd.raw_begin[k] == 1;
      if (!one_byte || (k > first && fd.raw_begin[k] != fd.raw_end[k - 1])) return false;
    }
    return true;
  });
  for (rules::Finding& f : found) {
    const std::uint64_t end_byte = f.end > 0 ? f.end - 1 : 0;
    const std::uint64_t raw_end = end_byte >= fd.base && end_byte < fd.base + fd.raw_end.size()
                                      ? fd.raw_end[static_cast<std::size_t>(end_byte - fd.base)]
                                      : ch.seen;
    f.start = raw_of(fd.raw_begin, fd.base, f.start, ch.seen);
    f.end = raw_end;
  }
  if (!handle_continued(ch, found, out)) return false;
  // Later findings start at or after these: the map before them is not needed again.
  const std::uint64_t keep = std::min(fd.stream.stable_offset(), fd.stream.pending_start());
  while (fd.base < keep && !fd.raw_begin.empty()) {
    fd.raw_begin.pop_front();
    fd.raw_end.pop_front();
    ++fd.base;
  }
  return true;
}

std::uint64_t StreamInspector::stable_offset(const Channel& ch) const {
  std::uint64_t stable = ch.stream->stable_offset();
  if (ch.folded) {
    const Channel::Folded& fd = *ch.folded;
    stable = std::min(stable, raw_of(fd.raw_begin, fd.base, fd.stream.stable_offset(),
                                     ch.seen - fd.carry.size()));
  }
  return stable;
}

std::uint64_t StreamInspector::pending_start(const Channel& ch) const {
  std::uint64_t start = ch.stream->pending_start();
  if (ch.folded) {
    const Channel::Folded& fd = *ch.folded;
    start = std::min(
        start, raw_of(fd.raw_begin, fd.base, fd.stream.pending_start(), ch.seen - fd.carry.size()));
  }
  return start;
}

std::string StreamInspector::release(Channel& ch, bool final) {
  std::uint64_t target = ch.seen;
  if (!final && ch.stream) {
    std::uint64_t stable = stable_offset(ch);
    std::uint64_t cap = ch.seen > holdback_ ? ch.seen - holdback_ : 0;
    // The cap bounds what a suffix that might still begin a match holds. A whole candidate
    // whose rule has not decided yet (its trailing context window may still bring the word it
    // needs) stays until it has: released by the cap, a Wi-Fi key left in clear before its
    // context word ended the stream (a review's finding). That holds at most the rule's width
    // and window more. `holdback_bytes: 0` still means nothing is held (a byte-exact stream).
    if (holdback_ > 0) cap = std::min(cap, pending_start(ch));
    target = std::min(ch.seen, std::max(stable, cap));
    // Never cut a code point: the client's text stays valid UTF-8.
    while (target > ch.released && target < ch.seen &&
           is_continuation(ch.pending[static_cast<std::size_t>(target - ch.released)])) {
      --target;
    }
    // Never cut a known redaction: release it whole (it is already decided)...
    for (const rules::Finding& f : ch.redactions) {
      if (f.start < target && target < f.end) target = std::min<std::uint64_t>(f.end, ch.seen);
    }
    // ...unless that would carry out a candidate still being decided that overlaps it: then
    // the redaction waits whole with it (an overlapping Wi-Fi key otherwise ended the stream
    // as a block once decided, its start already out; a review's finding).
    const std::uint64_t undecided = holdback_ > 0 ? pending_start(ch) : ch.seen;
    if (target > undecided) {
      target = undecided;
      for (bool moved = true; moved;) {
        moved = false;
        for (const rules::Finding& f : ch.redactions) {
          if (f.start < target && target < f.end) {
            target = f.start;
            moved = true;
          }
        }
      }
    }
  }
  if (target <= ch.released) return {};
  std::size_t n = static_cast<std::size_t>(target - ch.released);
  std::string_view window(ch.pending.data(), n);
  std::string text = ch.redactions.empty() ? std::string(window)
                                           : rules::redact(window, ch.redactions, ch.released);
  // The tail keeps the text as it was, not as redacted: a continuation of a redacted match must
  // still be that match (it then starts before `released` and blocks).
  ch.tail.append(window);
  if (ch.tail.size() > 2 * tail_limit_) ch.tail.erase(0, ch.tail.size() - tail_limit_);
  ch.pending.erase(0, n);
  ch.released = target;
  std::erase_if(ch.redactions, [&](const rules::Finding& f) { return f.end <= ch.released; });
  return text;
}

// The held text leaves in a copy of the channel's last delta event, and clients accumulate
// deltas by concatenating every string they see again: a copy that repeated the tool call's id
// and name, the role, or another text of that event made "lookuplookup", "call_1call_1" or the
// text twice (a review's finding). Emptying them is not enough either: strict clients refuse
// `"role": ""` (the Vercel AI SDK's schema), and some overwrite an id with any non-null value.
// So the copy leaves those members out; discriminators (`type`, `object`, `model`, item ids,
// top-level fields) stay as they were.
namespace {

bool json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The member `"key": <string value>` whose value literal is payload[b, e): [key start, e), or
// nothing when the text around the value is not that shape.
std::optional<std::pair<std::size_t, std::size_t>> member_of(std::string_view payload,
                                                             std::size_t b, std::size_t e) {
  std::size_t j = b;
  while (j > 0 && json_space(payload[j - 1])) --j;
  if (j == 0 || payload[j - 1] != ':') return std::nullopt;
  --j;
  while (j > 0 && json_space(payload[j - 1])) --j;
  if (j == 0 || payload[j - 1] != '"') return std::nullopt;
  --j;  // at the key's closing quote
  while (j > 0) {
    --j;
    if (payload[j] != '"') continue;
    std::size_t slashes = 0;
    while (j - slashes > 0 && payload[j - 1 - slashes] == '\\') ++slashes;
    if (slashes % 2 == 0) return std::make_pair(j, e);
  }
  return std::nullopt;
}

// `payload` without the members at `cuts` (sorted, disjoint), and without the commas that
// leaves stray (after `{`, `[` or another comma, or before `}` or `]`).
std::string cut_members(std::string_view payload,
                        const std::vector<std::pair<std::size_t, std::size_t>>& cuts) {
  std::string kept;
  kept.reserve(payload.size());
  std::size_t at = 0;
  for (const auto& [b, e] : cuts) {
    kept.append(payload.substr(at, b - at));
    at = e;
  }
  kept.append(payload.substr(at));
  std::string out;
  out.reserve(kept.size());
  bool in_string = false;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const char c = kept[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < kept.size()) {
        out.push_back(kept[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == ',') {
      std::size_t p = out.size();
      while (p > 0 && json_space(out[p - 1])) --p;
      std::size_t n = i + 1;
      while (n < kept.size() && json_space(kept[n])) ++n;
      const bool after_open = p == 0 || out[p - 1] == '{' || out[p - 1] == '[' || out[p - 1] == ',';
      const bool before_close =
          n < kept.size() && (kept[n] == '}' || kept[n] == ']' || kept[n] == ',');
      if (after_open || before_close) continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<std::string> StreamInspector::flush_copy(const Channel& ch, std::string text) {
  std::vector<GenericString> strings;
  if (!generic_strings(ch.tmpl_payload, strings)) {
    return make_error("inspect.stream_unparseable", "the template event does not parse");
  }
  static constexpr std::string_view kRepeated[] = {
      "id",        "name",      "role",        "content",      "refusal",  "reasoning_content",
      "reasoning", "arguments", "text",        "partial_json", "thinking", "transcript",
      "delta",     "response",  "tool_call_id"};
  std::vector<std::pair<std::size_t, std::size_t>> cuts;
  for (const GenericString& g : strings) {
    if (g.span_begin == ch.tmpl_begin) continue;
    const std::size_t dot = g.path.rfind('.');
    if (dot == std::string::npos) continue;  // top-level fields are not accumulated
    std::string_view last = std::string_view(g.path).substr(dot + 1);
    if (std::find(std::begin(kRepeated), std::end(kRepeated), last) == std::end(kRepeated)) {
      continue;
    }
    if (auto m = member_of(ch.tmpl_payload, g.span_begin, g.span_end)) cuts.push_back(*m);
  }
  auto rewritten =
      rewrite_json_strings(ch.tmpl_payload, {{ch.tmpl_begin, ch.tmpl_end, std::move(text)}});
  if (!rewritten.ok() || cuts.empty()) return rewritten;
  // Members after the channel's own string moved by its new length.
  const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(rewritten->size()) -
                               static_cast<std::ptrdiff_t>(ch.tmpl_payload.size());
  std::sort(cuts.begin(), cuts.end());
  for (auto& [b, e] : cuts) {
    if (b >= ch.tmpl_end) {
      b = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(b) + shift);
      e = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(e) + shift);
    }
  }
  return cut_members(*rewritten, cuts);
}

bool StreamInspector::flush_channel(Channel& ch, std::string& out) {
  if (ch.finished) return true;
  if (!feed_channel(ch, {}, true, out)) return false;
  std::string text = release(ch, true);
  ch.finished = true;
  if (text.empty()) return true;
  auto payload = flush_copy(ch, std::move(text));
  if (!payload.ok()) {
    block_unparseable(out);
    return false;
  }
  render(ch.tmpl_event, *payload, out);
  return true;
}

bool StreamInspector::flush_all(std::string& out, const std::vector<std::uint64_t>* groups) {
  for (auto& ch : channels_) {
    if (groups != nullptr &&
        std::find(groups->begin(), groups->end(), ch->key.group) == groups->end()) {
      continue;
    }
    if (!flush_channel(*ch, out)) return false;
  }
  return true;
}

bool StreamInspector::scan_others(std::vector<TextPiece>& others, std::string& payload,
                                  std::string& out) {
  if (others.empty() || !rules_) return true;
  std::vector<StringReplacement> replacements;
  for (TextPiece& p : others) {
    rules::Surface surface = to_rules(p.matched_in);
    if (!rules_->has_patterns(rules::Scope::response, surface)) continue;
    scratch_.clear();
    bytes_scanned_ += p.text.size();
    Status st = scanner_.scan(*rules_, rules::Scope::response, surface, to_rules(p.layer), p.text,
                              scratch_);
    if (!st.ok()) {
      block_unparseable(out);
      return false;
    }
    std::vector<rules::Finding> found = std::move(scratch_);
    scratch_.clear();
    std::vector<rules::Finding> redactions;
    bool rewritable = p.span_kind == SpanKind::kJsonString;
    if (!handle(found, p.matched_in, p.layer, rewritable ? &redactions : nullptr, 0, out)) {
      return false;
    }
    if (!redactions.empty()) {
      replacements.push_back({p.span_begin, p.span_end, rules::redact(p.text, redactions)});
    }
  }
  if (!replacements.empty()) {
    auto rewritten = rewrite_json_strings(payload, std::move(replacements));
    if (!rewritten.ok()) {
      block_unparseable(out);
      return false;
    }
    payload = std::move(*rewritten);
  }
  return true;
}

namespace {
// Paths followed as streams in one generic stream; strings of further paths are still scanned
// event by event (a stream per path costs a Hyperscan stream state each).
constexpr std::size_t kMaxGenericPaths = 64;
}  // namespace

// Drops the stream findings the event-by-event scan of a generic channel already acted on: a
// finding of the same rule within one acted on. The stream may report a part of what the scan
// of the whole event found as one finding (a run its later matches join), and then the rest.
// The acted-on spans are sorted by (rule, start) with the furthest end so far, so each finding
// is one search: an event of 80,000 findings looked each up in all of them (1.2 s).
void StreamInspector::drop_handled(const Channel& ch, std::vector<rules::Finding>& found) {
  if (found.empty()) return;
  auto within = [](const rules::Finding& f, const std::array<std::uint64_t, 3>& h) {
    return h[0] == f.rule_index && h[1] <= f.start && f.end <= h[2];
  };
  if (ch.handled.size() * found.size() <= 4096) {  // a delta's few: a sort costs more
    std::erase_if(found, [&](const rules::Finding& f) {
      return std::any_of(ch.handled.begin(), ch.handled.end(),
                         [&](const auto& h) { return within(f, h); });
    });
    return;
  }
  thread_local std::vector<std::array<std::uint64_t, 3>> spans;  // rule, start, furthest end
  spans.assign(ch.handled.begin(), ch.handled.end());
  std::sort(spans.begin(), spans.end());
  for (std::size_t k = 1; k < spans.size(); ++k) {
    if (spans[k][0] == spans[k - 1][0]) spans[k][2] = std::max(spans[k][2], spans[k - 1][2]);
  }
  std::erase_if(found, [&](const rules::Finding& f) {
    // The last span of f's rule starting at or before f: the furthest end of all of them.
    auto it = std::upper_bound(spans.begin(), spans.end(),
                               std::array<std::uint64_t, 3>{f.rule_index, f.start, UINT64_MAX});
    if (it == spans.begin()) return false;
    --it;
    return (*it)[0] == f.rule_index && f.end <= (*it)[2];
  });
  if (spans.capacity() > 4096) spans = {};
}

StreamInspector::Channel* StreamInspector::generic_channel(const std::string& path) {
  for (auto& ch : generic_channels_) {
    if (ch->path == path) return ch.get();
  }
  if (generic_channels_.size() >= kMaxGenericPaths) return nullptr;
  auto ch = std::make_unique<Channel>();
  ch->path = path;
  if (rules_ && rules_->has_patterns(rules::Scope::response, rules::Surface::body)) {
    auto s = scanner_.open_stream(rules_, rules::Scope::response, rules::Surface::body,
                                  rules::Layer::pre_template);
    if (s.ok()) ch->stream.emplace(std::move(s).value());
  }
  generic_channels_.push_back(std::move(ch));
  return generic_channels_.back().get();
}

StreamStep StreamInspector::on_generic_payload(std::string_view event_name,
                                               std::string_view payload, std::string_view raw,
                                               std::string& out) {
  std::vector<GenericString> strings;
  if (!generic_strings(payload, strings)) return block_unparseable(out);
  std::vector<StringReplacement> replacements;
  HeldEvent held;
  for (GenericString& g : strings) {
    if (g.text.empty()) continue;
    held.text_bytes += g.text.size();
    Channel* ch = generic_channel(g.path);
    const std::uint64_t base = ch != nullptr ? ch->seen : 0;
    // The event alone, as a buffered body would be: its own matches are redacted in place.
    std::vector<rules::Finding> redactions;
    if (rules_->has_patterns(rules::Scope::response, rules::Surface::body)) {
      scratch_.clear();
      bytes_scanned_ += g.text.size();
      Status st = scanner_.scan(*rules_, rules::Scope::response, rules::Surface::body,
                                rules::Layer::pre_template, g.text, scratch_);
      if (!st.ok()) return block_unparseable(out);
      std::vector<rules::Finding> found = std::move(scratch_);
      scratch_.clear();
      if (!handle(found, MatchedIn::kBody, Layer::kPreTemplate, &redactions, 0, out)) {
        return StreamStep::kEnd;
      }
      if (ch != nullptr) {
        for (const rules::Finding& f : found) {
          ch->handled.push_back({f.rule_index, base + f.start, base + f.end});
        }
      }
    }
    if (ch != nullptr) {
      ch->seen += g.text.size();
      held.ends.emplace_back(ch, ch->seen);
      if (ch->stream) {
        scratch_.clear();
        if (!scanner_.feed(*ch->stream, g.text, scratch_).ok()) return block_unparseable(out);
        std::vector<rules::Finding> found = std::move(scratch_);
        scratch_.clear();
        // What the event-by-event scan did not see: matches across events (or needing context
        // from an earlier event). One that starts in an earlier event cannot be redacted any
        // more: handle() ends the stream for it.
        drop_handled(*ch, found);
        std::vector<rules::Finding> late;
        if (!handle(found, MatchedIn::kBody, Layer::kPreTemplate, &late, base, out)) {
          return StreamStep::kEnd;
        }
        for (rules::Finding& f : late) {
          f.start -= base;
          f.end -= base;
          redactions.push_back(f);
        }
      }
      // Old entries can no longer be reported by the stream (its history is bounded).
      if (ch->handled.size() > 256) ch->handled.erase(ch->handled.begin(), ch->handled.end() - 128);
    }
    if (!redactions.empty()) {
      replacements.push_back({g.span_begin, g.span_end, rules::redact(g.text, redactions)});
    }
  }
  std::string event;
  if (replacements.empty()) {
    event.assign(raw);
  } else {
    auto rewritten = rewrite_json_strings(payload, std::move(replacements));
    if (!rewritten.ok()) return block_unparseable(out);
    render(event_name, *rewritten, event, extra_);
  }
  // Events leave whole, in order, once no match can still take in their text: a key whose
  // last bytes end an event is only known at the next event or the end of the stream.
  held.bytes = std::move(event);
  held_text_bytes_ += held.text_bytes;
  held_generic_.push_back(std::move(held));
  release_generic(out);
  return StreamStep::kContinue;
}

void StreamInspector::release_generic(std::string& out) {
  while (!held_generic_.empty()) {
    const HeldEvent& e = held_generic_.front();
    // Like a dialect channel's hold-back: bounded by holdback_bytes of text (0 holds nothing).
    bool decided = held_text_bytes_ > holdback_;
    if (!decided) {
      decided = std::all_of(e.ends.begin(), e.ends.end(), [](const auto& end) {
        const Channel* ch = end.first;
        if (!ch->stream || ch->finished) return true;
        return std::min(ch->stream->stable_offset(), ch->stream->pending_start()) >= end.second;
      });
    }
    if (!decided) return;
    out.append(e.bytes);
    held_text_bytes_ -= e.text_bytes;
    held_generic_.pop_front();
  }
}

bool StreamInspector::finish_generic(std::string& out) {
  for (auto& ch : generic_channels_) {
    if (!ch->stream || ch->finished) continue;
    ch->finished = true;
    scratch_.clear();
    if (!scanner_.finish(*ch->stream, scratch_).ok()) {
      block_unparseable(out);
      return false;
    }
    std::vector<rules::Finding> found = std::move(scratch_);
    scratch_.clear();
    drop_handled(*ch, found);
    std::vector<rules::Finding> late;
    if (!handle(found, MatchedIn::kBody, Layer::kPreTemplate, &late, ch->seen, out)) return false;
  }
  // Every match decided: the held events leave.
  for (const HeldEvent& e : held_generic_) out.append(e.bytes);
  held_generic_.clear();
  held_text_bytes_ = 0;
  return true;
}

StreamStep StreamInspector::on_payload(std::string_view event_name, std::string_view payload,
                                       std::string_view raw, std::string& out) {
  // Logprobs copy the text token by token and would leave with their event, before the
  // hold-back has judged that text (a key went out in them ahead of the block's error event):
  // withheld from every inspected stream (docs/inspection.md).
  std::string without_logprobs;
  std::string rerendered;
  switch (null_members(payload, "logprobs", without_logprobs)) {
    case NullMembers::kNone:
      break;
    case NullMembers::kReplaced:
      render(event_name, without_logprobs, rerendered, extra_);
      payload = without_logprobs;
      raw = rerendered;
      break;
    case NullMembers::kUnreadable:
      return block_unparseable(out);  // logprobs that cannot be withheld are not passed
  }
  if (generic_) {
    if (payload != "[DONE]") return on_generic_payload(event_name, payload, raw, out);
    if (!finish_generic(out)) return StreamStep::kEnd;  // the held event goes before [DONE]
  }
  StreamEventInfo info = parse_stream_event(route_, event_name, payload);
  if (!info.json_ok) return block_unparseable(out);
  if (!check_tools(info.tools_called, out)) return StreamStep::kEnd;
  if (!check_tool_names(info, false, out)) return StreamStep::kEnd;

  if (info.deltas.empty()) {
    if (info.keepalive && info.others.empty() && !info.ends_all && info.ends_groups.empty()) {
      out.append(raw);  // pings and message_start: nothing to inspect, nothing to flush
      return StreamStep::kContinue;
    }
    // A non-text part: held text goes first.
    bool all = info.ends_all || info.ends_groups.empty();
    if (!flush_all(out, all ? nullptr : &info.ends_groups)) return StreamStep::kEnd;
    std::string body(payload);
    if (!scan_others(info.others, body, out)) return StreamStep::kEnd;
    if (body == payload) {
      out.append(raw);
    } else {
      render(event_name, body, out, extra_);
    }
    return StreamStep::kContinue;
  }

  // Held text of other parts of the same groups leaves before this event (text before a tool
  // call), and so does that of channels this event ends without a delta of their own.
  for (auto& ch : channels_) {
    if (ch->finished) continue;
    bool same_group_other_part = false;
    bool has_delta_here = false;
    for (const StreamDelta& d : info.deltas) {
      if (d.key == ch->key) has_delta_here = true;
      if (d.key.group == ch->key.group && d.key.part != ch->key.part) same_group_other_part = true;
    }
    bool ended_here = info.ends_all || std::find(info.ends_groups.begin(), info.ends_groups.end(),
                                                 ch->key.group) != info.ends_groups.end();
    if (!has_delta_here && (same_group_other_part || ended_here)) {
      if (!flush_channel(*ch, out)) return StreamStep::kEnd;
    }
  }

  std::vector<StringReplacement> replacements;
  bool changed = false;
  for (StreamDelta& d : info.deltas) {
    Channel* continued = channel(d, out);
    if (continued == nullptr) return StreamStep::kEnd;
    Channel& ch = *continued;
    bool final = info.ends_all || std::find(info.ends_groups.begin(), info.ends_groups.end(),
                                            d.key.group) != info.ends_groups.end();
    if (!feed_channel(ch, d.text, final, out)) return StreamStep::kEnd;
    std::string text = release(ch, final);
    if (final) ch.finished = true;
    ch.tmpl_event.assign(event_name);
    ch.tmpl_payload.assign(payload);
    ch.tmpl_begin = d.span_begin;
    ch.tmpl_end = d.span_end;
    if (text != d.text) changed = true;
    replacements.push_back({d.span_begin, d.span_end, std::move(text)});
  }
  std::string body(payload);
  if (changed) {
    auto rewritten = rewrite_json_strings(payload, std::move(replacements));
    if (!rewritten.ok()) return block_unparseable(out);
    body = std::move(*rewritten);
  }
  std::size_t before = body.size();
  std::string original_body = body;
  if (!scan_others(info.others, body, out)) return StreamStep::kEnd;
  if (!changed && body == original_body && before == body.size()) {
    out.append(raw);
  } else {
    render(event_name, body, out, extra_);
  }
  return StreamStep::kContinue;
}

StreamStep StreamInspector::on_sse_event(const SseEvent& e, std::string& out) {
  if (!scan_unread(e.unread, out)) return StreamStep::kEnd;
  if (!e.has_data) {
    out.append(e.raw);  // comments and keep-alives
    return StreamStep::kContinue;
  }
  extra_ = e.other_lines;
  const StreamStep step = on_payload(e.event, e.data, e.raw, out);
  extra_ = {};
  return step;
}

StreamStep StreamInspector::feed(std::string_view chunk, std::string& out) {
  if (ended_) return StreamStep::kEnd;
  if (format_ == StreamFormat::kSse) {
    std::vector<SseEvent> events;
    if (!sse_.feed(chunk, events).ok()) return block_unparseable(out);
    for (const SseEvent& e : events) {
      if (on_sse_event(e, out) == StreamStep::kEnd) return StreamStep::kEnd;
    }
    return StreamStep::kContinue;
  }
  std::vector<NdjsonLine> lines;
  if (!ndjson_.feed(chunk, lines).ok()) return block_unparseable(out);
  for (const NdjsonLine& l : lines) {
    if (l.text.find_first_not_of(" \t\r") == std::string::npos) {
      out.append(l.raw);
      continue;
    }
    if (on_payload({}, l.text, l.raw, out) == StreamStep::kEnd) return StreamStep::kEnd;
  }
  return StreamStep::kContinue;
}

StreamStep StreamInspector::finish(std::string& out) {
  if (ended_) return StreamStep::kEnd;
  if (format_ == StreamFormat::kSse) {
    std::vector<SseEvent> events;
    if (!sse_.finish(events).ok()) return block_unparseable(out);
    for (const SseEvent& e : events) {
      if (on_sse_event(e, out) == StreamStep::kEnd) return StreamStep::kEnd;
    }
  } else {
    std::vector<NdjsonLine> lines;
    ndjson_.finish(lines);
    for (const NdjsonLine& l : lines) {
      if (l.text.find_first_not_of(" \t\r") == std::string::npos) {
        out.append(l.raw);
        continue;
      }
      if (on_payload({}, l.text, l.raw, out) == StreamStep::kEnd) return StreamStep::kEnd;
    }
  }
  if (!check_tool_names(StreamEventInfo{}, true, out)) return StreamStep::kEnd;
  if (!flush_all(out, nullptr)) return StreamStep::kEnd;
  if (!finish_generic(out)) return StreamStep::kEnd;
  return StreamStep::kContinue;
}

}  // namespace edgeward::inspect
