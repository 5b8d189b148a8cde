#pragma once
// Incremental framing of streamed responses: server-sent events (OpenAI, Anthropic) and
// newline-delimited JSON (Ollama), fed with the upstream's chunks at arbitrary boundaries.
//
// Rules:
//  - An event (or NDJSON line) is produced once it is complete, with its exact raw bytes, so an
//    event the inspector does not change is forwarded byte for byte.
//  - SSE follows the WHATWG event-stream grammar: lines end in CRLF, LF or CR (a CR at the end of
//    a chunk waits for the next byte); a blank line ends an event; lines starting with ':' are
//    comments; "field: value" drops one leading space; several `data` lines join with '\n';
//    a UTF-8 BOM at the very start is ignored.
//  - Bounded: an event or line longer than `max_event_bytes` is an error
//    ("inspect.stream_event_too_large"); the caller blocks the stream, never passes it.
//  - Single-threaded (one per response).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace edgeward::inspect {

struct SseEvent {
  std::string raw;        // every byte of the event, its terminating blank line included
  std::string event;      // the `event` field ("" when absent)
  std::string data;       // `data` lines joined with '\n'
  bool has_data = false;  // false for comment-only blocks (keep-alives)
  // The lines that are neither `data` nor `event` (id, retry, comments, unknown fields), each
  // ended by '\n': a rewritten event carries them on.
  std::string other_lines;
  // Text of the event that is not its data but that a client may still log or show: comments,
  // `id` values, unknown fields (name and value), and an `event` name that is not a plain
  // lower-case name. Lines ended by '\n'; empty for the events providers send.
  std::string unread;
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 4u << 20) : max_event_bytes_(max_event_bytes) {}

  // Appends `chunk`; every event completed by it is appended to `out`.
  Status feed(std::string_view chunk, std::vector<SseEvent>& out);

  // The upstream ended. A last event without its blank line is completed (and appended) when it
  // carries data; bytes that are not a whole line are kept in `raw` of that event.
  Status finish(std::vector<SseEvent>& out);

  // Bytes received but not yet part of a complete event.
  std::size_t pending_bytes() const { return buffer_.size() - event_start_; }

 private:
  void process_line(std::string_view line);
  void emit(std::size_t end, std::vector<SseEvent>& out);

  std::size_t max_event_bytes_;
  std::string buffer_;           // unconsumed bytes; events are cut from its front
  std::size_t event_start_ = 0;  // where the current event's raw bytes begin in buffer_
  std::size_t line_start_ = 0;   // where the current (incomplete) line begins
  std::size_t scan_pos_ = 0;     // where the search for the next line end resumes
  bool bom_checked_ = false;
  SseEvent current_;
};

struct NdjsonLine {
  std::string raw;   // the line with its '\n' (absent only for a final unterminated line)
  std::string text;  // without the line end (and without a trailing '\r')
};

class NdjsonSplitter {
 public:
  explicit NdjsonSplitter(std::size_t max_line_bytes = 4u << 20)
      : max_line_bytes_(max_line_bytes) {}

  Status feed(std::string_view chunk, std::vector<NdjsonLine>& out);
  // A final line without '\n' is completed.
  void finish(std::vector<NdjsonLine>& out);
  std::size_t pending_bytes() const { return buffer_.size(); }

 private:
  std::size_t max_line_bytes_;
  std::string buffer_;
};

}  // namespace edgeward::inspect
