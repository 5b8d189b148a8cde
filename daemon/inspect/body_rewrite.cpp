#include "daemon/inspect/body_rewrite.hpp"

#include <simdjson.h>

#include <algorithm>

#include "core/json.hpp"
#include "daemon/inspect/json_scalar.hpp"

namespace edgeward::inspect {

Result<std::string> rewrite_json_strings(std::string_view body,
                                         std::vector<StringReplacement> replacements) {
  std::sort(
      replacements.begin(), replacements.end(),
      [](const StringReplacement& a, const StringReplacement& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(body.size() + 64 * replacements.size());
  std::size_t copied = 0;
  for (const StringReplacement& r : replacements) {
    if (r.begin < copied || r.end < r.begin || r.end > body.size()) {
      return make_error("inspect.bad_replacement",
                        "replacement ranges overlap or lie outside the body");
    }
    out.append(body.substr(copied, r.begin - copied));
    json::append_json_string(out, r.text);
    copied = r.end;
  }
  out.append(body.substr(copied));
  return out;
}

namespace {

namespace sj = simdjson::ondemand;

struct Cut {
  std::size_t begin = 0;
  std::size_t end = 0;
  bool array = false;
};

class MemberNuller {
 public:
  MemberNuller(const char* base, std::string_view key) : base_(base), key_(key) {}

  bool walk(sj::value v, int depth) {
    if (depth > 128) return false;
    sj::json_type t;
    if (v.type().get(t)) return false;
    if (t == sj::json_type::object) {
      sj::object o;
      if (v.get_object().get(o)) return false;
      for (auto field : o) {
        std::string_view k;
        sj::value val;
        if (field.unescaped_key().get(k) || field.value().get(val)) return false;
        if (k == key_) {
          if (!cut(val)) return false;
        } else if (k == "arguments" || k == "input") {
          continue;  // tool-call JSON: its members are the tool's (ondemand skips the value)
        } else if (!walk(val, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    if (t == sj::json_type::array) {
      sj::array a;
      if (v.get_array().get(a)) return false;
      for (auto e : a) {
        sj::value item;
        if (e.get(item) || !walk(item, depth + 1)) return false;
      }
      return true;
    }
    return skip_scalar(v, t);
  }

  std::vector<Cut>& cuts() { return cuts_; }

 private:
  bool cut(sj::value& v) {
    sj::json_type t;
    if (v.type().get(t)) return false;
    std::string_view raw;
    const bool array = t == sj::json_type::array;
    if (array || t == sj::json_type::object) {
      if (!container_raw_json(v, t, raw)) return false;
    } else {
      raw = v.raw_json_token();
      // A scalar's token runs on to the next token: trim the whitespace after it (a string's
      // own spaces end at its closing quote, which is never whitespace).
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' ||
                              raw.back() == '\r')) {
        raw.remove_suffix(1);
      }
      if (!skip_scalar(v, t)) return false;
    }
    const auto begin = static_cast<std::size_t>(raw.data() - base_);
    cuts_.push_back(Cut{begin, begin + raw.size(), array});
    return true;
  }

  static bool skip_scalar(sj::value& v, sj::json_type t) {
    if (t != sj::json_type::string) return consume_json_scalar(v, t);
    std::string_view s;
    return !v.get_string().get(s);
  }

  const char* base_;
  std::string_view key_;
  std::vector<Cut> cuts_;
};

// True when `key` stands in `json` between two quotes.
bool holds_quoted(std::string_view json, std::string_view key) {
  for (std::size_t at = json.find(key); at != std::string_view::npos; at = json.find(key, at + 1)) {
    if (at > 0 && json[at - 1] == '"' && at + key.size() < json.size() &&
        json[at + key.size()] == '"') {
      return true;
    }
  }
  return false;
}

// True when `json` holds a `\u00XY` escape that could spell a byte of `key` (an ASCII key):
// not the escapes of non-ASCII text (`\u00e9`, `\u4e2d`), which many servers write for every
// such character.
bool may_spell(std::string_view json, std::string_view key) {
  for (std::size_t at = json.find("\\u00"); at != std::string_view::npos;
       at = json.find("\\u00", at + 1)) {
    if (at + 5 >= json.size()) return true;  // cut short: cannot rule it out
    const char c = json[at + 4];
    for (char k : key) {
      const char hi = "0123456789abcdef"[(static_cast<unsigned char>(k) >> 4) & 0xF];
      if (c == hi || (hi >= 'a' && c == hi - 'a' + 'A')) return true;
    }
  }
  return false;
}

}  // namespace

NullMembers null_members(std::string_view json, std::string_view key, std::string& out) {
  // Most payloads hold neither the key in quotes nor an escape that could spell one of its
  // bytes, and are not parsed (no allocation either: this runs on every streamed event).
  if (!holds_quoted(json, key) && !may_spell(json, key)) return NullMembers::kNone;
  thread_local sj::parser parser;
  simdjson::padded_string padded(json);
  sj::document doc;
  sj::value root;
  MemberNuller walker(padded.data(), key);
  if (parser.iterate(padded).get(doc) || doc.get_value().get(root) || !walker.walk(root, 0)) {
    // Spelled with escapes only if it is there at all: a text without the plain key that does
    // not parse is no concern of this function.
    return NullMembers::kUnreadable;
  }
  if (walker.cuts().empty()) return NullMembers::kNone;
  out.clear();
  out.reserve(json.size());
  std::size_t copied = 0;
  for (const Cut& c : walker.cuts()) {
    out.append(json.substr(copied, c.begin - copied));
    out.append(c.array ? "[]" : "null");
    copied = c.end;
  }
  out.append(json.substr(copied));
  return NullMembers::kReplaced;
}

}  // namespace edgeward::inspect
