#include "core/json.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

namespace edgeward::json {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is ill-formed; in that case
// `skip` is the length of its maximal ill-formed subpart (at least 1), to replace by one U+FFFD.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& skip) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  skip = 1;
  if (b0 < 0x80) return 1;
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0/C1 or F5–FF: never valid as a lead
  }
  for (std::size_t k = 1; k < need; ++k) {
    if (i + k >= s.size()) {
      skip = k;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char l = k == 1 ? lo : 0x80;
    const unsigned char h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) {
      skip = k;
      return 0;
    }
  }
  return need;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t skip = 1;
      const std::size_t n = utf8_sequence(s, i, skip);
      if (n == 0) {
        out.append(kReplacement);
        i += skip;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0x0f]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string quote(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t skip = 1;
    const std::size_t n = utf8_sequence(s, i, skip);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

void append_json_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out.append("null");
    return;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_json_number(std::string& out, std::int64_t v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_json_number(std::string& out, std::uint64_t v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

JsonWriter::JsonWriter() : out_(&own_) {}

JsonWriter::JsonWriter(std::string& out) : out_(&out) {}

void JsonWriter::before_value() {
  if (stack_.empty()) {
    assert(!top_has_value_ && "JsonWriter: a second top-level value needs newline() first");
    top_has_value_ = true;
    return;
  }
  Level& top = stack_.back();
  if (top.object) {
    assert(after_key_ && "JsonWriter: a value inside an object needs key() first");
    after_key_ = false;
    return;
  }
  if (top.has_items) out_->push_back(',');
  top.has_items = true;
}

JsonWriter& JsonWriter::begin_object() {
  before_value();
  out_->push_back('{');
  stack_.push_back(Level{true, false});
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  assert(!stack_.empty() && stack_.back().object && !after_key_);
  stack_.pop_back();
  out_->push_back('}');
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  before_value();
  out_->push_back('[');
  stack_.push_back(Level{false, false});
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  assert(!stack_.empty() && !stack_.back().object);
  stack_.pop_back();
  out_->push_back(']');
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(!stack_.empty() && stack_.back().object && !after_key_ &&
         "JsonWriter: key() is only valid inside an object, once per value");
  Level& top = stack_.back();
  if (top.has_items) out_->push_back(',');
  top.has_items = true;
  append_json_string(*out_, name);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  before_value();
  append_json_string(*out_, s);
  return *this;
}

JsonWriter& JsonWriter::number(double v) {
  before_value();
  append_json_number(*out_, v);
  return *this;
}

JsonWriter& JsonWriter::number_i64(std::int64_t v) {
  before_value();
  append_json_number(*out_, v);
  return *this;
}

JsonWriter& JsonWriter::number_u64(std::uint64_t v) {
  before_value();
  append_json_number(*out_, v);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
  before_value();
  out_->append(v ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_->append("null");
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  before_value();
  out_->append(json);
  return *this;
}

JsonWriter& JsonWriter::newline() {
  assert(stack_.empty() && !after_key_);
  out_->push_back('\n');
  top_has_value_ = false;
  return *this;
}

std::string JsonWriter::take() {
  std::string text = std::move(*out_);
  out_->clear();
  stack_.clear();
  after_key_ = false;
  top_has_value_ = false;
  return text;
}

}  // namespace edgeward::json
