#include "core/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/ids.hpp"
#include "core/json.hpp"

namespace edgeward::log {
namespace {

struct State {
  std::atomic<int> level{static_cast<int>(Level::info)};
  std::atomic<int> format{static_cast<int>(Format::text)};
  std::atomic<bool> journal{false};
  std::mutex sink_mu;
  std::shared_ptr<const Sink> sink;  // null: stderr
};

bool journal_from_env() {
  return is_journal_stream(2, std::getenv("JOURNAL_STREAM"));
}

State& state() {
  static State* s = [] {
    auto* st = new State();  // never destroyed: logging must work during static destruction
    st->journal.store(journal_from_env());
    return st;
  }();
  return *s;
}

void write_stderr(std::string_view line) {
  // One write(2) per line; a short write (rare: a full pipe with O_NONBLOCK, a signal) goes on
  // with the rest rather than losing the end of the line.
  while (!line.empty()) {
    const ssize_t n = ::write(2, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a logging failure
    }
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool plain_text(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '=' || c == '\\') return false;
  }
  return true;
}

// True for a UUID, a ULID, or "<lowercase prefix>_<ULID>".
bool looks_like_id(std::string_view s) {
  if (ids::is_uuid(s) || ids::is_ulid(s)) return true;
  const std::size_t us = s.find('_');
  if (us == std::string_view::npos || us == 0 || us > 16) return false;
  for (char c : s.substr(0, us)) {
    if (c < 'a' || c > 'z') return false;
  }
  return ids::is_ulid(s.substr(us + 1));
}

void append_double(std::string& out, double v) {
  json::append_json_number(out, v);
}

// The text a Text value stands for, after the safety rules (truncation, id shape).
std::string_view shown_text(const Field::Text& t, bool& truncated) {
  truncated = false;
  switch (t.kind) {
    case Field::TextKind::id:
      return looks_like_id(t.text) ? t.text : std::string_view("<not-an-id>");
    case Field::TextKind::safe:
      if (t.text.size() > kMaxSafeBytes) {
        truncated = true;
        return t.text.substr(0, kMaxSafeBytes);
      }
      return t.text;
    case Field::TextKind::trusted:
      return t.text;
  }
  return t.text;
}

void append_value_text(std::string& out, const Field::Value& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out.append("null");
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>) {
          json::append_json_number(out, x);
        } else if constexpr (std::is_same_v<T, double>) {
          append_double(out, x);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, Field::DurationMs>) {
          append_double(out, std::round(x.ms * 1000.0) / 1000.0);
          out.append("ms");
        } else if constexpr (std::is_same_v<T, timefmt::TimePoint>) {
          out.append(timefmt::format_rfc3339(x));
        } else {
          bool truncated = false;
          std::string_view text = shown_text(x, truncated);
          if (truncated) {
            std::string cut(text);
            cut.append("\xE2\x80\xA6");  // …
            json::append_json_string(out, cut);
          } else if (plain_text(text)) {
            out.append(text);
          } else {
            json::append_json_string(out, text);
          }
        }
      },
      v);
}

void append_value_json(std::string& out, const Field::Value& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out.append("null");
        } else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t>) {
          json::append_json_number(out, x);
        } else if constexpr (std::is_same_v<T, double>) {
          append_double(out, x);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, Field::DurationMs>) {
          append_double(out, std::round(x.ms * 1000.0) / 1000.0);
        } else if constexpr (std::is_same_v<T, timefmt::TimePoint>) {
          json::append_json_string(out, timefmt::format_rfc3339(x));
        } else {
          bool truncated = false;
          std::string_view text = shown_text(x, truncated);
          if (truncated) {
            std::string cut(text);
            cut.append("\xE2\x80\xA6");
            json::append_json_string(out, cut);
          } else {
            json::append_json_string(out, text);
          }
        }
      },
      v);
}

}  // namespace

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

std::string_view to_string(Format format) {
  return format == Format::json ? "json" : "text";
}

Result<Level> parse_level(std::string_view text) {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn" || text == "warning") return Level::warn;
  if (text == "error") return Level::error;
  return make_error("log.bad_level", "log level must be debug, info, warn or error");
}

Result<Format> parse_format(std::string_view text) {
  if (text == "text") return Format::text;
  if (text == "json") return Format::json;
  return make_error("log.bad_format", "log format must be text or json");
}

std::string_view journal_prefix(Level level) {
  switch (level) {
    case Level::debug:
      return "<7>";
    case Level::info:
      return "<6>";
    case Level::warn:
      return "<4>";
    case Level::error:
      return "<3>";
  }
  return "<6>";
}

bool is_journal_stream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  const std::string_view v(journal_stream);
  const std::size_t colon = v.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long dev = 0, ino = 0;
  const char* dev_end = v.data() + colon;
  auto r1 = std::from_chars(v.data(), dev_end, dev);
  if (r1.ec != std::errc() || r1.ptr != dev_end || colon == 0) return false;
  const char* ino_begin = dev_end + 1;
  const char* ino_end = v.data() + v.size();
  auto r2 = std::from_chars(ino_begin, ino_end, ino);
  if (r2.ec != std::errc() || r2.ptr != ino_end || ino_begin == ino_end) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

void configure(const Options& options) {
  State& s = state();
  s.level.store(static_cast<int>(options.level));
  s.format.store(static_cast<int>(options.format));
  switch (options.journal) {
    case Options::Journal::detect:
      s.journal.store(journal_from_env());
      break;
    case Options::Journal::on:
      s.journal.store(true);
      break;
    case Options::Journal::off:
      s.journal.store(false);
      break;
  }
}

void set_level(Level level) {
  state().level.store(static_cast<int>(level));
}

Level level() {
  return static_cast<Level>(state().level.load());
}

bool enabled(Level l) {
  return static_cast<int>(l) >= state().level.load();
}

void set_sink(Sink sink) {
  State& s = state();
  std::shared_ptr<const Sink> next;
  if (sink) next = std::make_shared<const Sink>(std::move(sink));
  std::lock_guard<std::mutex> lock(s.sink_mu);
  s.sink = std::move(next);
}

std::string format_line(Level level, EventName event, Fields fields, Format format, bool journal,
                        timefmt::TimePoint ts) {
  std::string line;
  line.reserve(128);
  if (journal) line.append(journal_prefix(level));
  if (format == Format::json) {
    line.append("{\"ts\":\"");
    line.append(timefmt::format_rfc3339(ts));
    line.append("\",\"level\":\"");
    line.append(to_string(level));
    line.append("\",\"event\":");
    json::append_json_string(line, event.view());
    for (const Field& f : fields) {
      line.push_back(',');
      json::append_json_string(line, f.key());
      line.push_back(':');
      append_value_json(line, f.value());
    }
    line.push_back('}');
  } else {
    if (!journal) {
      line.append(timefmt::format_rfc3339(ts));
      line.push_back(' ');
    }
    line.append(to_string(level));
    line.push_back(' ');
    line.append(event.view());
    for (const Field& f : fields) {
      line.push_back(' ');
      line.append(f.key());
      line.push_back('=');
      append_value_text(line, f.value());
    }
  }
  return line;
}

void write(Level level, EventName event, Fields fields) {
  State& s = state();
  if (static_cast<int>(level) < s.level.load()) return;
  std::string line = format_line(level, event, fields, static_cast<Format>(s.format.load()),
                                 s.journal.load(), timefmt::now());
  line.push_back('\n');
  std::shared_ptr<const Sink> sink;
  {
    std::lock_guard<std::mutex> lock(s.sink_mu);
    sink = s.sink;
  }
  if (sink) {
    // Sinks are for tests and tools: serialise calls so that a sink need not be thread-safe.
    static std::mutex call_mu;
    std::lock_guard<std::mutex> lock(call_mu);
    (*sink)(line);
  } else {
    write_stderr(line);
  }
}

}  // namespace edgeward::log
