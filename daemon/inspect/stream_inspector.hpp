#pragma once
// Streamed-response inspection (DESIGN §2): SSE or NDJSON events in, inspected events out.
//
// Each text the model streams (a channel: a choice's content, one tool call's arguments, an
// Anthropic content block) is fed to its own Hyperscan stream (rules/scanner.hpp), so a match
// split across deltas is found. Text is released to the client as soon as no finding can still
// start in it (ScanStream::stable_offset), and never more than `holdback_bytes` is held back:
// the delta events are re-written to carry the released text, redacted.
//
// Rules:
//  - Invariant: for matches no longer than the hold-back, the text the client receives on a
//    channel, joined, equals rules::redact(full text, redact findings). A redact finding that
//    starts in text already released (a match longer than the hold-back) ends the stream like
//    a block: a partial secret is never passed off as redacted (docs/inspection.md).
//  - Held text is flushed (its channel finished) before any event that ends it (finish_reason,
//    content_block_stop, message_stop, [DONE], done:true), before an event of another part of
//    the same choice (text, then a tool call), before any other non-delta event (pings and
//    comments excepted: they carry nothing and pass at once) and at the end of the stream.
//  - A block finding ends the stream: one error event in the dialect's shape (answers.hpp) is
//    emitted and everything after is dropped; the held text of a blocked channel never leaves.
//  - A payload that does not parse (not JSON, an event over the size bound) ends the stream the
//    same way: an unparseable stream is never passed through.
//  - An upstream that fails mid-stream ends the stream with one error event (fail()), after
//    the held text of its complete events, scanned as final.
//  - Generic streams (generic dialect, unknown endpoints) have no known deltas: each event is
//    scanned whole (redact rewrites its strings) and, besides, the strings of each JSON path
//    are fed event after event to a stream of their own, so a match split across events is
//    found. Events are not held back: such a match ends the stream (block, or redact, whose
//    start already left) when its last part arrives.
//  - Single-threaded; the Scanner is the worker thread's.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/inspect/answers.hpp"
#include "daemon/inspect/body_rewrite.hpp"
#include "daemon/inspect/event_recorder.hpp"
#include "daemon/inspect/stream_events.hpp"
#include "daemon/inspect/stream_framing.hpp"
#include "rules/engine.hpp"
#include "rules/scanner.hpp"
#include "rules/text_fold.hpp"

namespace edgeward::inspect {

enum class StreamStep : std::uint8_t {
  kContinue,  // `out` holds the bytes to send now (possibly none)
  kEnd,       // `out` holds the final bytes (an error event); end the response cleanly
};

class StreamInspector {
 public:
  StreamInspector(std::shared_ptr<const rules::CompiledRules> rules, rules::Scanner& scanner,
                  Route route, StreamFormat format, std::size_t holdback_bytes,
                  EventRecorder& events);
  ~StreamInspector();

  // The next chunk of the upstream body, at arbitrary boundaries. Appends to `out`.
  StreamStep feed(std::string_view chunk, std::string& out);
  // The upstream body ended: flushes held text and any unterminated last event.
  StreamStep finish(std::string& out);
  // The upstream failed after the head went out (reset, timeout, a bad chunk): the text of the
  // complete events is final, so held text is scanned as at the end of the stream and released
  // (or blocked), the unterminated last event is dropped (its payload is cut), and one error
  // event ends the stream (answers.hpp, stream_failure_event). A stream already ended, or ended
  // by that last scan, gets no failure event.
  StreamStep fail(std::string_view message, std::string_view code, std::string& out);

  bool ended() const { return ended_; }
  // The dialect whose error event ends a blocked stream, when it is not the route's (a
  // mislabelled stream read as generic events still ends the way its client understands).
  void set_answer_dialect(Dialect d) { answer_dialect_ = d; }
  // The reason code that ended the stream ("" when it was not blocked).
  const std::string& block_reason() const { return block_reason_; }
  // Where the error event of a blocked stream begins in the `out` of the call that ended it.
  std::optional<std::size_t> block_offset() const { return block_offset_; }
  std::uint64_t bytes_scanned() const { return bytes_scanned_; }
  std::uint64_t held_bytes() const;

 private:
  struct Channel;
  struct Frame;  // the event currently being re-written

  StreamStep on_sse_event(const SseEvent& e, std::string& out);
  StreamStep on_payload(std::string_view event_name, std::string_view payload, std::string_view raw,
                        std::string& out);
  // Generic streams (no dialect knows their deltas): every string path is a stream of its own.
  StreamStep on_generic_payload(std::string_view event_name, std::string_view payload,
                                std::string_view raw, std::string& out);
  bool finish_generic(std::string& out);
  // Sends the held generic events, oldest first, whose text no match can still take in.
  void release_generic(std::string& out);
  Channel* generic_channel(const std::string& path);
  static void drop_handled(const Channel& ch, std::vector<rules::Finding>& found);
  StreamStep block(const rules::Finding& f, std::string& out);
  StreamStep block_unparseable(std::string& out);
  // The open channel of d's key, or a new one; a new one continuing a flushed channel of the
  // same key scans that channel's released tail first. Null when that ended the stream.
  Channel* channel(const StreamDelta& d, std::string& out);
  // handle() for a channel's findings, minus those it (or the channel it continues) already
  // acted on; remembers the rest in Channel::handled.
  bool handle_continued(Channel& ch, std::vector<rules::Finding>& found, std::string& out);
  // Scans `text` appended to `ch`; returns false when a block ended the stream.
  bool feed_channel(Channel& ch, std::string_view text, bool final, std::string& out);
  // feed_channel's second scan, of the text with escapes decoded and hidden characters folded
  // from the first delta that holds one; its findings are mapped back to the channel's text.
  bool feed_folded(Channel& ch, std::string_view text, bool final, std::string& out);
  // What the second scan reads of `text` (into derived_, spans relative to `text`): its escapes
  // decoded as `reading` says (rules/json_escapes.hpp), then folded. Returns the bytes consumed:
  // all, unless `text` ends inside an escape and the text is not `final`.
  std::size_t derive(std::string_view text, rules::EscapeReading reading, bool final);
  // The channel's stable offset and first undecided candidate, the folded scan's included.
  std::uint64_t stable_offset(const Channel& ch) const;
  std::uint64_t pending_start(const Channel& ch) const;
  // The text of `ch` that may leave now (redacted); `final` releases everything.
  std::string release(Channel& ch, bool final);
  // Finishes `ch` and appends one synthesized delta event carrying its held text.
  bool flush_channel(Channel& ch, std::string& out);
  // The event flush_channel sends: a copy of the channel's last delta event carrying `text`,
  // without the members a client would accumulate twice.
  static Result<std::string> flush_copy(const Channel& ch, std::string text);
  bool flush_all(std::string& out, const std::vector<std::uint64_t>* groups);
  bool scan_others(std::vector<TextPiece>& others, std::string& payload, std::string& out);
  bool check_tools(const std::vector<std::string>& tools, std::string& out);
  // Joins the pieces of OpenAI tool-call names and checks each name once it is known: when its
  // call's arguments start, when a later call of its choice begins, when its choice or the
  // stream ends (`at_end`), and again if a piece comes after that. False: the stream ended.
  bool check_tool_names(const StreamEventInfo& info, bool at_end, std::string& out);
  // Records the findings and acts: block ends the stream; redact goes to `redactions`, or ends
  // the stream when the text cannot be rewritten (null) or the match starts before `released`
  // (the channel's text already sent).
  bool handle(std::vector<rules::Finding>& findings, MatchedIn in, Layer layer,
              std::vector<rules::Finding>* redactions, std::uint64_t released, std::string& out);
  // Writes an event carrying `payload`: SSE `extra` lines (StreamEvent::other_lines) first,
  // then the event name, then one `data` line per line of the payload.
  void render(std::string_view event_name, std::string_view payload, std::string& out,
              std::string_view extra = {}) const;
  // Scans an SSE event's text that is not its data (SseEvent::unread); false: the stream ended.
  bool scan_unread(std::string_view unread, std::string& out);

  std::shared_ptr<const rules::CompiledRules> rules_;
  rules::Scanner& scanner_;
  Route route_;
  Dialect answer_dialect_;
  StreamFormat format_;
  std::size_t holdback_;
  std::size_t tail_limit_ = 0;  // Channel::tail
  EventRecorder& events_;
  SseParser sse_;
  NdjsonSplitter ndjson_;
  std::vector<std::unique_ptr<Channel>> channels_;
  bool generic_ = false;  // generic dialect or an unknown endpoint: whole events, by path
  std::vector<std::unique_ptr<Channel>> generic_channels_;
  // Generic streams: rendered events not sent yet, and for each the channels it fed with
  // their offset after it (the event may leave once every one is stable past it).
  struct HeldEvent {
    std::string bytes;
    std::vector<std::pair<const Channel*, std::uint64_t>> ends;
    std::size_t text_bytes = 0;
  };
  std::deque<HeldEvent> held_generic_;
  std::size_t held_text_bytes_ = 0;
  struct ToolName {
    ChannelKey key;           // the channel of the call's arguments
    std::string name;         // the pieces so far
    std::size_t checked = 0;  // bytes of `name` tool_permission has seen
  };
  std::vector<ToolName> tool_names_;
  std::vector<rules::Finding> scratch_;
  rules::FoldedText fold_scratch_;
  rules::FoldedText unescaped_;
  rules::FoldedText derived_;
  std::string_view extra_;  // the current SSE event's other_lines, while it is handled
  bool ended_ = false;
  std::string block_reason_;
  std::optional<std::size_t> block_offset_;
  std::uint64_t bytes_scanned_ = 0;
};

}  // namespace edgeward::inspect
