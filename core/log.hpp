#pragma once
// Logging: one line per event to stderr, as text or JSON, with journald priority prefixes.
//
//   log::info("upstream.connect_failed", {{"upstream", log::Safe{up.name}}, {"status", 502},
//                                         {"elapsed", elapsed}, {"error", err}});
//
// Design: it is hard to log a body.
//  - The message is an event name, not prose: `EventName` is built only at compile time (a
//    string literal or a `constexpr std::string_view`), made of [a-z0-9._]. A runtime string
//    cannot become an event name, so nothing request-derived can be logged as "the message".
//  - Field keys are compile-time names too (`FieldKey`, [a-z0-9_.], not `ts`/`level`/`event`).
//  - Field values are typed. Accepted: integers, floating point, bool, `std::chrono::duration`
//    (written in milliseconds), `timefmt::TimePoint` (RFC 3339), enums (by name when an ADL
//    `to_string(E)` exists, else by number), `edgeward::Error` (its code), `nullptr`, string
//    literals (compile-time only), `log::Id` (rendered only when it has the shape of a UUID, a
//    ULID or a prefixed ULID) and `log::Safe`.
//  - `std::string`, `std::string_view`, `const char*` and runtime char arrays are NOT accepted.
//    A string that is known to be safe (an upstream name from the config, a file path, an error
//    message of `edgeward::Error`, which by rule never carries payload) must be wrapped:
//    `log::Safe{name}`. The wrapper is the place a reviewer looks. Safe values are cut at
//    `kMaxSafeBytes` bytes, so that even a mistake cannot pour a body into the log.
//  - `log::is_loggable_v<T>` states at compile time which types are accepted (tests pin it).
//
// Output (one write(2) per line, so lines from threads and processes never interleave):
//  - text: `2026-11-23T00:48:38.123Z warn upstream.connect_failed upstream=openai status=502`.
//    String values with spaces, quotes, '=' or non-printable bytes are JSON-quoted. When stderr
//    is the journal the time stamp is left out (journald records its own).
//  - json: `{"ts":"2026-11-23T00:48:38.123Z","level":"warn","event":"upstream.connect_failed",
//    "upstream":"openai","status":502}`; always valid JSON (see core/json.hpp).
//  - journald: when stderr is connected to the journal (JOURNAL_STREAM names stderr's
//    device:inode, see systemd.exec(5)), every line starts with `<3>` error, `<4>` warn,
//    `<6>` info or `<7>` debug, which journald turns into the entry's priority.
//
// Naming: inside namespace edgeward write `log::info(…)`. At global scope the C library's
// ::log(double) owns the name `log`, so write `edgeward::log::info(…)` or use
// `using namespace edgeward;` (a global `namespace log = …` alias does not compile).
//
// Threads: every function is thread-safe. `configure`, `set_level` and `set_sink` may be called
// at any time (e.g. on SIGHUP reload, but not from a signal handler); lines being written finish
// with the settings they started with.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "core/result.hpp"
#include "core/time.hpp"

namespace edgeward::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { text, json };

// "debug", "info", "warn", "error" / "text", "json".
std::string_view to_string(Level level);
std::string_view to_string(Format format);
// Errors: "log.bad_level" (also accepts "warning"), "log.bad_format".
Result<Level> parse_level(std::string_view text);
Result<Format> parse_format(std::string_view text);

// The journald priority prefix of a level: "<7>", "<6>", "<4>", "<3>".
std::string_view journal_prefix(Level level);

namespace detail {
// Compile-time checks. Calling a non-constexpr function inside a consteval constructor makes
// the program ill-formed, which is how a bad name becomes a compile error.
inline void invalid_event_name_must_be_lowercase_dotted() {}
inline void invalid_field_key_must_be_lowercase_and_not_reserved() {}

consteval bool is_name_char(char c, bool allow_dot) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dot && c == '.');
}
consteval bool is_valid_name(std::string_view s, bool allow_dot) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!is_name_char(c, allow_dot)) return false;
  }
  return true;
}
}  // namespace detail

// The fixed name of what happened: "upstream.connect_failed", "config.reloaded".
class EventName {
 public:
  template <std::size_t N>
  consteval EventName(const char (&s)[N]) : EventName(std::string_view(s, N - 1)) {}  // NOLINT
  consteval EventName(std::string_view s) : name_(s) {                                // NOLINT
    if (!detail::is_valid_name(s, true)) detail::invalid_event_name_must_be_lowercase_dotted();
  }
  constexpr std::string_view view() const { return name_; }

 private:
  std::string_view name_;
};

// A field's fixed key: "upstream", "status", "elapsed_ms".
class FieldKey {
 public:
  template <std::size_t N>
  consteval FieldKey(const char (&s)[N]) : FieldKey(std::string_view(s, N - 1)) {}  // NOLINT
  consteval FieldKey(std::string_view s) : key_(s) {                                // NOLINT
    if (!detail::is_valid_name(s, true) || s == "ts" || s == "level" || s == "event") {
      detail::invalid_field_key_must_be_lowercase_and_not_reserved();
    }
  }
  constexpr std::string_view view() const { return key_; }

 private:
  std::string_view key_;
};

// Safe values are cut to this many bytes (and marked with "…").
inline constexpr std::size_t kMaxSafeBytes = 256;

// A runtime string the caller vouches never carries request or response content. Use it inline
// in the log call: it keeps a view, not a copy.
struct Safe {
  explicit Safe(std::string_view v) : value(v) {}
  std::string_view value;
};

// An identifier (UUID, ULID, "evt_…"/"req_…" ULID). Anything else is written as "<not-an-id>".
struct Id {
  explicit Id(std::string_view v) : value(v) {}
  std::string_view value;
};

// A string literal as a value: {"state", "draining"}. Only compile-time text is accepted.
class Literal {
 public:
  template <std::size_t N>
  consteval Literal(const char (&s)[N]) : text_(s, N - 1) {  // NOLINT
    for (std::size_t i = 0; i + 1 < N; ++i) {
      if (s[i] == '\0') text_ = std::string_view(s, i);  // reads the array: runtime arrays fail
    }
  }
  constexpr std::string_view view() const { return text_; }

 private:
  std::string_view text_;
};

template <class T>
concept NamedEnum = std::is_enum_v<T> && requires(T v) {
  { to_string(v) } -> std::convertible_to<std::string_view>;
};

template <class T>
concept LoggableNumber = (std::integral<T> || std::floating_point<T>)&&!std::same_as<T, bool> &&
                         !std::same_as<T, char> && !std::same_as<T, char8_t> &&
                         !std::same_as<T, char16_t> && !std::same_as<T, char32_t> &&
                         !std::same_as<T, wchar_t>;

// One key and one typed value. Holds views: valid for the log call it is written in.
class Field {
 public:
  template <LoggableNumber T>
  Field(FieldKey key, T v) : key_(key.view()) {
    if constexpr (std::floating_point<T>) {
      value_ = static_cast<double>(v);
    } else if constexpr (std::signed_integral<T>) {
      value_ = static_cast<std::int64_t>(v);
    } else {
      value_ = static_cast<std::uint64_t>(v);
    }
  }
  // Exactly bool: a pointer must not turn into `true` here.
  template <std::same_as<bool> B>
  Field(FieldKey key, B v) : key_(key.view()), value_(static_cast<bool>(v)) {}
  template <class Rep, class Period>
  Field(FieldKey key, std::chrono::duration<Rep, Period> d)
      : key_(key.view()),
        value_(DurationMs{std::chrono::duration<double, std::milli>(d).count()}) {}
  Field(FieldKey key, timefmt::TimePoint t) : key_(key.view()), value_(t) {}
  template <class E>
  requires std::is_enum_v<E> Field(FieldKey key, E e) : key_(key.view()) {
    if constexpr (NamedEnum<E>) {
      value_ = Text{std::string_view(to_string(e)), TextKind::trusted};
    } else {
      value_ = static_cast<std::int64_t>(static_cast<std::underlying_type_t<E>>(e));
    }
  }
  Field(FieldKey key, const Error& e) : key_(key.view()), value_(Text{e.code, TextKind::trusted}) {}
  Field(FieldKey key, std::nullptr_t) : key_(key.view()), value_(std::monostate{}) {}
  Field(FieldKey key, Literal s) : key_(key.view()), value_(Text{s.view(), TextKind::trusted}) {}
  Field(FieldKey key, Safe s) : key_(key.view()), value_(Text{s.value, TextKind::safe}) {}
  Field(FieldKey key, Id id) : key_(key.view()), value_(Text{id.value, TextKind::id}) {}
  // Runtime strings are refused on purpose: wrap a string known to be safe in log::Safe{…}.
  template <class S>
  requires(std::is_convertible_v<S, std::string_view> && !std::is_array_v<std::remove_cvref_t<S>>)
      Field(FieldKey key, S&& runtime_string_must_be_wrapped_in_log_Safe)
  = delete;

  // For the formatter.
  enum class TextKind { trusted, safe, id };
  struct Text {
    std::string_view text;
    TextKind kind;
  };
  struct DurationMs {
    double ms;
  };
  using Value = std::variant<std::monostate, std::int64_t, std::uint64_t, double, bool, DurationMs,
                             timefmt::TimePoint, Text>;
  std::string_view key() const { return key_; }
  const Value& value() const { return value_; }

 private:
  std::string_view key_;
  Value value_;
};

// True for the value types a Field accepts (see the design notes at the top).
template <class T>
inline constexpr bool is_loggable_v = std::is_constructible_v<Field, FieldKey, T>;

using Fields = std::initializer_list<Field>;

// Where finished lines go. The default writes each line to fd 2 with one write(2).
// A sink receives the whole line including its trailing '\n'.
using Sink = std::function<void(std::string_view line)>;

struct Options {
  Level level = Level::info;
  Format format = Format::text;
  // Journald prefixes: true/false to force, unset to detect from JOURNAL_STREAM and stderr.
  enum class Journal { detect, on, off } journal = Journal::detect;
};

// Applies options (the daemon calls this at start and on reload). Before any call: info, text,
// journal detected.
void configure(const Options& options);
void set_level(Level level);
Level level();
// True when a line at `level` would be written: use it to skip computing costly fields.
bool enabled(Level level);

// Replaces where lines go; an empty Sink restores stderr. For tests and tools.
void set_sink(Sink sink);

// True when `journal_stream` (the JOURNAL_STREAM value, "<dev>:<ino>" in decimal) names the
// file open on `fd`. Exposed for tests; configure() uses it with fd 2.
bool is_journal_stream(int fd, const char* journal_stream);

// Writes one line if `level` is enabled.
void write(Level level, EventName event, Fields fields = {});

inline void debug(EventName event, Fields fields = {}) {
  write(Level::debug, event, fields);
}
inline void info(EventName event, Fields fields = {}) {
  write(Level::info, event, fields);
}
inline void warn(EventName event, Fields fields = {}) {
  write(Level::warn, event, fields);
}
inline void error(EventName event, Fields fields = {}) {
  write(Level::error, event, fields);
}

// The line write() would produce (without its trailing '\n'), for tests and tools.
std::string format_line(Level level, EventName event, Fields fields, Format format, bool journal,
                        timefmt::TimePoint ts);

}  // namespace edgeward::log
