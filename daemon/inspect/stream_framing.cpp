#include "daemon/inspect/stream_framing.hpp"

#include <algorithm>
#include <cstring>

namespace edgeward::inspect {

namespace {
Error too_large() {
  return make_error("inspect.stream_event_too_large",
                    "a streamed event exceeds the inspection bound; the stream is blocked");
}
}  // namespace

namespace {

// An event name as providers send them (`content_block_delta`, `response.output_text.delta`):
// nothing a rule looks for fits in it.
bool plain_name(std::string_view v) {
  if (v.size() > 64) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '_' || c == '.' || c == '-';
  });
}

bool all_digits(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void SseParser::process_line(std::string_view line) {
  if (line.empty()) return;  // blank lines are handled by the caller
  auto keep = [&](std::string_view unread) {
    current_.other_lines.append(line);
    current_.other_lines.push_back('\n');
    if (!unread.empty()) {
      current_.unread.append(unread);
      current_.unread.push_back('\n');
    }
  };
  if (line.front() == ':') {
    keep(line.substr(1));  // a comment: ": ping", or anything an upstream puts there
    return;
  }
  std::string_view field = line;
  std::string_view value;
  if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (current_.has_data) current_.data.push_back('\n');
    current_.data.append(value);
    current_.has_data = true;
  } else if (field == "event") {
    current_.event.assign(value);
    if (!plain_name(value)) {
      current_.unread.append(value);
      current_.unread.push_back('\n');
    }
  } else if (field == "retry" && all_digits(value)) {
    keep({});
  } else if (field == "id") {
    keep(all_digits(value) ? std::string_view{} : value);  // a counter holds nothing to find
  } else {
    keep(line);  // an unknown field: its name and value
  }
}

void SseParser::emit(std::size_t end, std::vector<SseEvent>& out) {
  current_.raw.assign(buffer_, event_start_, end - event_start_);
  out.push_back(std::move(current_));
  current_ = SseEvent{};
  event_start_ = end;
}

Status SseParser::feed(std::string_view chunk, std::vector<SseEvent>& out) {
  buffer_.append(chunk);
  if (!bom_checked_) {
    // Fewer than three bytes so far: a BOM cannot be ruled out yet.
    if (buffer_.size() < 3) return {};
    bom_checked_ = true;
    if (buffer_.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      // The BOM is not inspected but is forwarded: it stays in the first event's raw bytes.
      line_start_ = 3;
      scan_pos_ = 3;
    }
  }
  std::size_t i = scan_pos_;
  while (i < buffer_.size()) {
    const char* base = buffer_.data();
    const void* nl = std::memchr(base + i, '\n', buffer_.size() - i);
    const void* cr = std::memchr(base + i, '\r', buffer_.size() - i);
    if (nl == nullptr && cr == nullptr) {
      i = buffer_.size();
      break;
    }
    const void* hit = (nl == nullptr || (cr != nullptr && cr < nl)) ? cr : nl;
    std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(hit) - base);
    std::size_t next = pos + 1;
    if (buffer_[pos] == '\r') {
      if (next == buffer_.size()) {
        i = pos;  // a CR at the end: wait to see whether LF follows
        break;
      }
      if (buffer_[next] == '\n') ++next;
    }
    std::string_view line(buffer_.data() + line_start_, pos - line_start_);
    if (line.empty()) {
      emit(next, out);
    } else {
      process_line(line);
    }
    line_start_ = next;
    i = next;
  }
  scan_pos_ = i;
  // Drop what has been emitted, keeping the current event's bytes.
  if (event_start_ > 0) {
    buffer_.erase(0, event_start_);
    line_start_ -= event_start_;
    scan_pos_ -= event_start_;
    event_start_ = 0;
  }
  if (buffer_.size() > max_event_bytes_) return too_large();
  return {};
}

Status SseParser::finish(std::vector<SseEvent>& out) {
  bom_checked_ = true;
  if (line_start_ < buffer_.size()) {
    std::string_view tail(buffer_.data() + line_start_, buffer_.size() - line_start_);
    if (!tail.empty() && tail.back() == '\r') tail.remove_suffix(1);
    process_line(tail);
    line_start_ = buffer_.size();
  }
  if (buffer_.size() > event_start_) {
    emit(buffer_.size(), out);
  }
  buffer_.clear();
  line_start_ = 0;
  scan_pos_ = 0;
  event_start_ = 0;
  return {};
}

Status NdjsonSplitter::feed(std::string_view chunk, std::vector<NdjsonLine>& out) {
  std::size_t start = 0;
  std::size_t scan_from = buffer_.size();
  buffer_.append(chunk);
  while (true) {
    std::size_t nl = buffer_.find('\n', scan_from);
    if (nl == std::string::npos) break;
    NdjsonLine line;
    line.raw.assign(buffer_, start, nl + 1 - start);
    line.text.assign(buffer_, start, nl - start);
    if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
    out.push_back(std::move(line));
    start = nl + 1;
    scan_from = start;
  }
  buffer_.erase(0, start);
  if (buffer_.size() > max_line_bytes_) return too_large();
  return {};
}

void NdjsonSplitter::finish(std::vector<NdjsonLine>& out) {
  if (buffer_.empty()) return;
  NdjsonLine line;
  line.raw = buffer_;
  line.text = buffer_;
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  out.push_back(std::move(line));
  buffer_.clear();
}

}  // namespace edgeward::inspect
