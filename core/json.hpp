#pragma once
// JSON output: string escaping and a small streaming writer for wire formats, logs and CLI output.
//
// Rules:
//  - Output is always valid JSON text in UTF-8: invalid UTF-8 in a string is replaced by U+FFFD
//    (one per maximal ill-formed subpart, as Unicode recommends), so a hostile byte sequence can
//    never break the document or a log line.
//  - Escaping: `"` and `\` are escaped; control characters U+0000–U+001F are written as \b \f
//    \n \r \t where JSON has a short form and \u00XX otherwise. Everything else (including
//    non-ASCII) is written as UTF-8 bytes, unescaped. `/` is not escaped.
//  - Nothing here allocates except the output string growing. No function throws.
//  - Parsing JSON is simdjson's job (libsimdjson-dev), not this file's.

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeward::json {

// Appends `s` as a quoted JSON string ("…") to `out`.
void append_json_string(std::string& out, std::string_view s);

// `s` as a quoted JSON string.
std::string quote(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Appends a JSON number: shortest round-trip form for doubles; NaN and infinities become null.
void append_json_number(std::string& out, double v);
void append_json_number(std::string& out, std::int64_t v);
void append_json_number(std::string& out, std::uint64_t v);

// A streaming writer that puts commas and colons where they belong.
//
//   JsonWriter w;
//   w.begin_object().key("status").number(403).key("reasons").begin_array()
//    .string("DLP.PII.IBAN").end_array().end_object();
//   w.str() == R"({"status":403,"reasons":["DLP.PII.IBAN"]})"
//
// Rules:
//  - Single-threaded; one writer builds one document (or, with several top-level values, one
//    value per call of `newline()`, as NDJSON).
//  - Inside an object every value must follow `key()`; inside an array `key()` is a bug. Misuse
//    is caught by assert in debug builds (the writer does not validate in release builds).
//  - Writes into its own buffer (default constructor) or appends to a caller's string, which
//    must outlive the writer. Not copyable or movable (it may point into itself).
class JsonWriter {
 public:
  JsonWriter();
  explicit JsonWriter(std::string& out);
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // An object member's name; the next call writes its value.
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view s);
  JsonWriter& number(double v);
  // Any integer type except bool and the character types (so that number(5) is not ambiguous).
  template <class T>
  requires(std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
           !std::same_as<T, char8_t> && !std::same_as<T, char16_t> && !std::same_as<T, char32_t> &&
           !std::same_as<T, wchar_t>) JsonWriter& number(T v) {
    if constexpr (std::signed_integral<T>) {
      return number_i64(static_cast<std::int64_t>(v));
    } else {
      return number_u64(static_cast<std::uint64_t>(v));
    }
  }
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  // Writes `json` verbatim as one value; the caller vouches that it is valid JSON.
  JsonWriter& raw(std::string_view json);

  // Shorthands for key(name) followed by a value.
  JsonWriter& field(std::string_view name, std::string_view s) { return key(name).string(s); }
  JsonWriter& field(std::string_view name, const char* s) { return key(name).string(s); }
  JsonWriter& field(std::string_view name, bool v) { return key(name).boolean(v); }
  JsonWriter& field(std::string_view name, double v) { return key(name).number(v); }
  template <class T>
  requires(std::integral<T> && !std::same_as<T, bool>) JsonWriter& field(std::string_view name,
                                                                         T v) {
    return key(name).number(v);
  }

  // For NDJSON: ends the current top-level value with '\n'. Only valid at depth 0.
  JsonWriter& newline();

  // True when every object and array begun has been ended and no key waits for its value.
  bool complete() const { return stack_.empty() && !after_key_; }
  std::size_t depth() const { return stack_.size(); }

  // The text written so far (the caller's string when one was given).
  const std::string& str() const { return *out_; }
  // Moves the text out and resets the writer.
  std::string take();

 private:
  struct Level {
    bool object;
    bool has_items;
  };
  void before_value();
  JsonWriter& number_i64(std::int64_t v);
  JsonWriter& number_u64(std::uint64_t v);

  std::string own_;
  std::string* out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
  bool top_has_value_ = false;
};

}  // namespace edgeward::json
