#include "core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/json.hpp"
#include "core/units.hpp"

namespace edgeward::config {

using detail::FieldInfo;
using detail::Kind;
using detail::Value;

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line) + ":" + std::to_string(column);
  }
  if (!out.empty()) out += ": ";
  if (!path.empty()) out += path + ": ";
  out += error.message;
  out += " (" + error.code + ")";
  return out;
}

const FieldInfo* SchemaBase::find(std::string_view name) const {
  for (const FieldInfo& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {

constexpr std::size_t kMaxQuotedValue = 64;

// A value as it appears in a message: JSON-quoted, cut to a readable length.
std::string quoted(std::string_view value) {
  if (value.size() > kMaxQuotedValue) {
    return json::quote(std::string(value.substr(0, kMaxQuotedValue)) + "…");
  }
  return json::quote(value);
}

// Puts the quoted value into a units/check message: "bad byte size: unknown unit" becomes
// "bad byte size \"ten\": unknown unit"; a message without ':' gets the value at its end.
std::string with_value(const std::string& message, std::string_view value) {
  const std::size_t colon = message.find(": ");
  if (colon == std::string::npos) return message + " " + quoted(value);
  return message.substr(0, colon) + " " + quoted(value) + message.substr(colon);
}

std::string join(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return quoted(n.Scalar());
  }
  return "something else";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool is_bool_word(const std::string& s, bool& out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

// Decimal integer with an optional sign. 0: ok, 1: not an integer, 2: beyond int64.
int parse_int(const std::string& s, std::int64_t& out) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  if (i == s.size()) return 1;
  unsigned long long magnitude = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return 1;
    const auto d = static_cast<unsigned long long>(s[i] - '0');
    if (magnitude > (~0ULL - d) / 10) {
      overflow = true;
    } else {
      magnitude = magnitude * 10 + d;
    }
  }
  const unsigned long long limit =
      negative ? (1ULL << 63) : static_cast<unsigned long long>((1ULL << 63) - 1);
  if (overflow || magnitude > limit) return 2;
  out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return 0;
}

std::string type_name(const FieldInfo& f) {
  std::string t;
  switch (f.kind) {
    case Kind::string:
      t = f.type_name;
      break;
    case Kind::boolean:
      t = "bool";
      break;
    case Kind::integer: {
      t = "integer";
      if (f.has_min && f.has_max) {
        t += " " + std::to_string(f.min) + "–" + std::to_string(f.max);
      } else if (f.has_min) {
        t += " ≥ " + std::to_string(f.min);
      } else if (f.has_max) {
        t += " ≤ " + std::to_string(f.max);
      }
      if (!f.keywords.empty()) {
        std::string words;
        for (const auto& [w, v] : f.keywords) words += "`" + w + "` or ";
        t = words + t;
      }
      break;
    }
    case Kind::duration:
      t = "duration";
      if (f.min_duration.count() > 0 && f.max_duration != std::chrono::milliseconds::max()) {
        t += " " + units::format_duration(f.min_duration) + "–" +
             units::format_duration(f.max_duration);
      } else if (f.min_duration.count() > 0) {
        t += " ≥ " + units::format_duration(f.min_duration);
      } else if (f.max_duration != std::chrono::milliseconds::max()) {
        t += " ≤ " + units::format_duration(f.max_duration);
      }
      break;
    case Kind::byte_size:
      t = "byte size";
      if (f.min_bytes > 0 && f.max_bytes != ~0ULL) {
        t +=
            " " + units::format_byte_size(f.min_bytes) + "–" + units::format_byte_size(f.max_bytes);
      } else if (f.min_bytes > 0) {
        t += " ≥ " + units::format_byte_size(f.min_bytes);
      } else if (f.max_bytes != ~0ULL) {
        t += " ≤ " + units::format_byte_size(f.max_bytes);
      }
      break;
    case Kind::choice:
      t = "one of ";
      for (std::size_t i = 0; i < f.choices.size(); ++i) {
        if (i > 0) t += ", ";
        t += "`" + f.choices[i] + "`";
      }
      break;
    case Kind::string_list:
      t = f.type_name == "string" ? "list of strings" : "list of " + f.type_name;
      break;
    case Kind::object:
      t = "object";
      break;
    case Kind::object_list:
      t = "list of objects";
      break;
  }
  if (f.nullable) t += " or null";
  return t;
}

// Collects diagnostics for one source (a file, a flag, or a schema's defaults).
struct Reader {
  std::string source;
  std::vector<Diagnostic> diags;

  void fail(const YAML::Mark& mark, const std::string& path, Error error) {
    Diagnostic d;
    d.file = source;
    if (!mark.is_null() && mark.line >= 0) {
      d.line = mark.line + 1;
      d.column = mark.column + 1;
    }
    d.path = path;
    d.error = std::move(error);
    diags.push_back(std::move(d));
  }
};

// Where a problem with a value is shown: the value itself, or its key when the value is null
// (yaml-cpp puts an absent value's mark on the next token).
YAML::Mark value_mark(const YAML::Node& value, const YAML::Mark& key_mark) {
  if (!value.IsDefined() || value.IsNull() || value.Mark().is_null()) return key_mark;
  return value.Mark();
}

void read_object(Reader& r, const SchemaBase& schema, const YAML::Node& node,
                 const YAML::Mark& mark, void* obj, const std::string& path);

// What an error says a value was: its text, unless the field holds a secret.
std::string kind_of(const FieldInfo& f, const YAML::Node& n) {
  if (f.secret && n.IsScalar()) return "a string (value not shown)";
  return kind_of(n);
}

std::string with_value(const FieldInfo& f, const std::string& message, std::string_view value) {
  if (f.secret) return message + " (value not shown)";
  return with_value(message, value);
}

void wrong_type(Reader& r, const YAML::Mark& mark, const std::string& path, const FieldInfo& f,
                const YAML::Node& value) {
  r.fail(
      mark, path,
      make_error("config.wrong_type", "expected " + type_name(f) + ", got " + kind_of(f, value)));
}

void read_field(Reader& r, const FieldInfo& f, const YAML::Node& value, const YAML::Mark& key_mark,
                void* obj, const std::string& path) {
  const YAML::Mark mark = value_mark(value, key_mark);
  if (!value.IsDefined() || value.IsNull()) {
    if (f.kind == Kind::object) {
      read_object(r, *f.nested, YAML::Node(), mark, f.object_at(obj), path);
    } else if (f.kind == Kind::object_list) {
      f.list_clear(obj);
    } else if (f.nullable) {
      Value v;
      v.is_null = true;
      f.set(obj, v);
    } else {
      wrong_type(r, mark, path, f, value);
    }
    return;
  }

  const bool scalar_kind =
      f.kind != Kind::string_list && f.kind != Kind::object && f.kind != Kind::object_list;
  if (scalar_kind && !value.IsScalar()) {
    wrong_type(r, mark, path, f, value);
    return;
  }
  Value v;
  switch (f.kind) {
    case Kind::string: {
      v.text = value.Scalar();
      if (f.check) {
        Status st = f.check(v.text);
        if (!st.ok()) {
          r.fail(mark, path,
                 make_error(st.error().code, with_value(f, st.error().message, v.text)));
          return;
        }
      }
      f.set(obj, v);
      return;
    }
    case Kind::boolean:
      if (!is_bool_word(value.Scalar(), v.boolean)) {
        wrong_type(r, mark, path, f, value);
        return;
      }
      f.set(obj, v);
      return;
    case Kind::integer: {
      const std::string& s = value.Scalar();
      bool keyword = false;
      for (const auto& [word, number] : f.keywords) {
        if (s == word) {
          v.integer = number;
          keyword = true;
        }
      }
      if (!keyword) {
        const int rc = parse_int(s, v.integer);
        if (rc == 1) {
          wrong_type(r, mark, path, f, value);
          return;
        }
        if (rc == 2 || v.integer < f.min || v.integer > f.max) {
          r.fail(mark, path,
                 make_error("config.out_of_range", "expected " + type_name(f) + ", got " + s));
          return;
        }
      }
      f.set(obj, v);
      return;
    }
    case Kind::duration: {
      auto d = units::parse_duration(value.Scalar());
      if (!d.ok()) {
        r.fail(mark, path,
               make_error(d.error().code, with_value(d.error().message, value.Scalar())));
        return;
      }
      if (*d < f.min_duration || *d > f.max_duration) {
        r.fail(mark, path,
               make_error("config.out_of_range",
                          "expected " + type_name(f) + ", got " + value.Scalar()));
        return;
      }
      v.duration = *d;
      f.set(obj, v);
      return;
    }
    case Kind::byte_size: {
      auto b = units::parse_byte_size(value.Scalar());
      if (!b.ok()) {
        r.fail(mark, path,
               make_error(b.error().code, with_value(b.error().message, value.Scalar())));
        return;
      }
      if (*b < f.min_bytes || *b > f.max_bytes) {
        r.fail(mark, path,
               make_error("config.out_of_range",
                          "expected " + type_name(f) + ", got " + value.Scalar()));
        return;
      }
      v.unsigned_int = *b;
      f.set(obj, v);
      return;
    }
    case Kind::choice: {
      const std::string& s = value.Scalar();
      auto it = std::find(f.choices.begin(), f.choices.end(), s);
      if (it == f.choices.end()) {
        r.fail(mark, path,
               make_error("config.bad_value", "expected " + type_name(f) + ", got " + quoted(s)));
        return;
      }
      v.integer = static_cast<std::int64_t>(it - f.choices.begin());
      v.text = s;
      f.set(obj, v);
      return;
    }
    case Kind::string_list: {
      if (!value.IsSequence()) {
        wrong_type(r, mark, path, f, value);
        return;
      }
      bool ok = true;
      std::size_t i = 0;
      for (const YAML::Node& item : value) {
        const std::string item_path = path + "[" + std::to_string(i++) + "]";
        const YAML::Mark item_mark = value_mark(item, mark);
        if (!item.IsScalar()) {
          r.fail(item_mark, item_path,
                 make_error("config.wrong_type",
                            "expected " + f.type_name + ", got " + kind_of(f, item)));
          ok = false;
          continue;
        }
        if (f.check) {
          Status st = f.check(item.Scalar());
          if (!st.ok()) {
            r.fail(item_mark, item_path,
                   make_error(st.error().code, with_value(f, st.error().message, item.Scalar())));
            ok = false;
            continue;
          }
        }
        v.list.push_back(item.Scalar());
      }
      if (value.size() > f.max_items) {
        r.fail(
            mark, path,
            make_error("config.out_of_range", "at most " + std::to_string(f.max_items) +
                                                  " items, got " + std::to_string(value.size())));
        ok = false;
      }
      if (ok) f.set(obj, v);
      return;
    }
    case Kind::object:
      read_object(r, *f.nested, value, mark, f.object_at(obj), path);
      return;
    case Kind::object_list: {
      if (!value.IsSequence()) {
        wrong_type(r, mark, path, f, value);
        return;
      }
      f.list_clear(obj);
      std::size_t i = 0;
      for (const YAML::Node& item : value) {
        const std::string item_path = path + "[" + std::to_string(i++) + "]";
        void* element = f.list_append(obj);
        read_object(r, *f.nested, item, value_mark(item, mark), element, item_path);
      }
      return;
    }
  }
}

// Applies one field's default (its YAML text) to obj; problems are the schema's.
void apply_default(Reader& r, const FieldInfo& f, void* obj, const std::string& path) {
  if (f.kind == Kind::object) {
    read_object(r, *f.nested, YAML::Node(), YAML::Mark::null_mark(), f.object_at(obj), path);
    return;
  }
  YAML::Node node;
  try {
    node = YAML::Load(f.default_text);
  } catch (const YAML::Exception& e) {
    r.fail(YAML::Mark::null_mark(), path,
           make_error("config.bad_default", "the schema's default is not YAML: " + e.msg));
    return;
  }
  Reader inner{"", {}};
  read_field(inner, f, node, YAML::Mark::null_mark(), obj, path);
  for (Diagnostic& d : inner.diags) {
    r.fail(YAML::Mark::null_mark(), d.path,
           make_error("config.bad_default", "the schema's default " + quoted(f.default_text) +
                                                " is invalid: " + d.error.message + " (" +
                                                d.error.code + ")"));
  }
}

}  // namespace

struct Checker::Impl {
  Reader* reader;
  const YAML::Node* node;  // the object's mapping (may be null)
  YAML::Mark mark;         // the object's position
  std::string path;
};

void Checker::fail(std::string_view key, Error error) {
  YAML::Mark mark = impl_->mark;
  if (!key.empty() && impl_->node->IsMap()) {
    for (auto it = impl_->node->begin(); it != impl_->node->end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (k.IsScalar() && k.Scalar() == key) mark = value_mark(v, k.Mark());
    }
  }
  impl_->reader->fail(mark, key.empty() ? impl_->path : join(impl_->path, key), std::move(error));
}

void Checker::fail(std::string_view key, std::size_t index, Error error) {
  YAML::Mark mark = impl_->mark;
  if (impl_->node->IsMap()) {
    for (auto it = impl_->node->begin(); it != impl_->node->end(); ++it) {
      const YAML::Node k = it->first;
      const YAML::Node v = it->second;
      if (k.IsScalar() && k.Scalar() == key) {
        mark = value_mark(v, k.Mark());
        if (v.IsSequence() && index < v.size()) mark = value_mark(v[index], mark);
      }
    }
  }
  impl_->reader->fail(mark, join(impl_->path, key) + "[" + std::to_string(index) + "]",
                      std::move(error));
}

namespace {

void read_object(Reader& r, const SchemaBase& schema, const YAML::Node& node,
                 const YAML::Mark& mark, void* obj, const std::string& path) {
  const std::size_t errors_before = r.diags.size();
  std::set<std::string> present;
  if (node.IsDefined() && !node.IsNull()) {
    if (!node.IsMap()) {
      r.fail(mark, path,
             make_error("config.wrong_type", "expected a mapping, got " + kind_of(node)));
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: yaml-cpp's iterator hands out a temporary pair.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        r.fail(key.Mark(), path,
               make_error("config.wrong_type", "expected a key, got " + kind_of(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      const std::string key_path = join(path, name);
      const FieldInfo* f = schema.find(name);
      if (f == nullptr) {
        std::string message = "unknown key " + quoted(name);
        std::string best;
        std::size_t best_distance = 3;
        for (const FieldInfo& candidate : schema.fields()) {
          const std::size_t d = edit_distance(name, candidate.name);
          if (d < best_distance && d <= std::max<std::size_t>(1, candidate.name.size() / 3)) {
            best_distance = d;
            best = candidate.name;
          }
        }
        if (!best.empty()) message += " (did you mean " + quoted(best) + "?)";
        r.fail(key.Mark(), key_path, make_error("config.unknown_key", std::move(message)));
        continue;
      }
      if (!present.insert(name).second) {
        r.fail(key.Mark(), key_path,
               make_error("config.duplicate_key", "key " + quoted(name) + " appears twice"));
        continue;
      }
      read_field(r, *f, value, key.Mark(), obj, key_path);
    }
  }
  for (const FieldInfo& f : schema.fields()) {
    if (present.count(f.name) != 0) continue;
    const std::string key_path = join(path, f.name);
    if (f.default_text == kRequired) {
      r.fail(mark, key_path,
             make_error("config.missing_key", "required key " + quoted(f.name) + " is missing"));
      continue;
    }
    apply_default(r, f, obj, key_path);
  }
  if (r.diags.size() == errors_before && schema.object_check()) {
    const YAML::Node empty;
    Checker::Impl impl{&r, node.IsDefined() ? &node : &empty, mark, path};
    Checker checker(&impl);
    schema.object_check()(obj, checker);
  }
}

// A string as a YAML scalar: plain when that reads back as the same string, else double-quoted
// (a JSON string is a valid YAML double-quoted scalar).
std::string yaml_scalar(const std::string& s) {
  static const std::set<std::string> kSpecial = {
      "null", "Null", "NULL", "~",  "true", "True", "TRUE", "false", "False", "FALSE",
      "yes",  "Yes",  "YES",  "no", "No",   "NO",   "on",   "On",    "ON",    "off",
      "Off",  "OFF",  "y",    "Y",  "n",    "N",    ".inf", ".nan"};
  bool plain = !s.empty() && kSpecial.count(s) == 0;
  for (std::size_t i = 0; plain && i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '/' || c == '@' || c == '+' || c == '-' ||
                    (c == ':' && i + 1 < s.size());
    if (!ok) plain = false;
  }
  if (plain && (s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) {
    // Could read back as a number: quote unless it has letters or ':' making it a string.
    bool numeric_looking = true;
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' ||
            c == '_' || c == 'x' || c == 'o')) {
        numeric_looking = false;
      }
    }
    if (numeric_looking) plain = false;
  }
  return plain ? s : json::quote(s);
}

std::string scalar_text(const FieldInfo& f, const Value& v) {
  if (v.is_null) return "null";
  switch (f.kind) {
    case Kind::string:
      return yaml_scalar(v.text);
    case Kind::boolean:
      return v.boolean ? "true" : "false";
    case Kind::integer:
      for (const auto& [word, number] : f.keywords) {
        if (number == v.integer) return word;
      }
      return std::to_string(v.integer);
    case Kind::duration:
      return units::format_duration(v.duration);
    case Kind::byte_size:
      return units::format_byte_size(v.unsigned_int);
    case Kind::choice:
      return yaml_scalar(v.text);
    case Kind::string_list: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.list.size(); ++i) {
        if (i > 0) out += ", ";
        out += json::quote(v.list[i]);
      }
      return out + "]";
    }
    case Kind::object:
    case Kind::object_list:
      break;
  }
  return "";
}

void render_object(std::string& out, const SchemaBase& schema, const void* obj, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  for (const FieldInfo& f : schema.fields()) {
    if (f.kind == Kind::object) {
      if (f.nested->fields().empty()) {
        out += pad + f.name + ": {}\n";
      } else {
        out += pad + f.name + ":\n";
        render_object(out, *f.nested, f.object_at_const(obj), indent + 2);
      }
    } else if (f.kind == Kind::object_list) {
      const std::size_t n = f.list_size(obj);
      if (n == 0) {
        out += pad + f.name + ": []\n";
        continue;
      }
      out += pad + f.name + ":\n";
      for (std::size_t i = 0; i < n; ++i) {
        std::string element;
        render_object(element, *f.nested, f.list_at(obj, i), indent + 4);
        if (element.empty()) {
          out += pad + "  - {}\n";
          continue;
        }
        element.replace(static_cast<std::size_t>(indent) + 2, 2, "- ");
        out += element;
      }
    } else {
      out += pad + f.name + ": " + scalar_text(f, f.get(obj)) + "\n";
    }
  }
}

std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void render_rows(std::string& out, const SchemaBase& schema, const std::string& prefix) {
  for (const FieldInfo& f : schema.fields()) {
    const std::string key = prefix + f.name;
    std::string def;
    if (f.default_text == kRequired) {
      def = "required";
    } else if (!f.default_text.empty()) {
      def = "`" + cell(f.default_text) + "`";
    }
    out += "| `" + key + "` | " + cell(type_name(f)) + " | " + def + " | " + cell(f.description) +
           " |\n";
    if (f.kind == Kind::object) render_rows(out, *f.nested, key + ".");
    if (f.kind == Kind::object_list) render_rows(out, *f.nested, key + "[].");
  }
}

}  // namespace

namespace detail {

std::vector<Diagnostic> parse_text(const SchemaBase& schema, void* obj, std::string_view text,
                                   const std::string& source) {
  Reader r{source, {}};
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "", make_error("config.syntax", "YAML syntax error: " + e.msg));
    return std::move(r.diags);
  }
  if (docs.size() > 1) {
    r.fail(docs[1].Mark(), "",
           make_error("config.syntax", "more than one YAML document; write one mapping"));
    return std::move(r.diags);
  }
  const YAML::Node root = docs.empty() ? YAML::Node() : docs[0];
  YAML::Mark start;  // line 0, column 0: the top of the file
  read_object(r, schema, root, root.IsDefined() && !root.IsNull() ? root.Mark() : start, obj, "");
  return std::move(r.diags);
}

std::vector<Diagnostic> read_file(const std::string& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return {Diagnostic{
        path, 0, 0, "",
        make_error("config.unreadable", std::string("cannot read: ") + std::strerror(err))}};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return {Diagnostic{path, 0, 0, "", make_error("config.unreadable", "cannot read the file")}};
  }
  text = ss.str();
  return {};
}

std::vector<Diagnostic> apply_defaults(const SchemaBase& schema, void* obj) {
  Reader r{"<schema defaults>", {}};
  read_object(r, schema, YAML::Node(), YAML::Mark::null_mark(), obj, "");
  return std::move(r.diags);
}

std::vector<Diagnostic> apply_override(const SchemaBase& schema, void* obj,
                                       std::string_view key_path, std::string_view value,
                                       const std::string& source) {
  Reader r{source, {}};
  const SchemaBase* current = &schema;
  void* target = obj;
  std::string path;
  std::string_view rest = key_path;
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view name = rest.substr(0, dot);
    const FieldInfo* f = current->find(name);
    path = join(path, name);
    if (f == nullptr) {
      r.fail(YAML::Mark::null_mark(), path,
             make_error("config.unknown_key", "unknown key " + quoted(name)));
      return std::move(r.diags);
    }
    if (dot == std::string_view::npos) {
      if (f->kind == Kind::object || f->kind == Kind::object_list) {
        r.fail(YAML::Mark::null_mark(), path,
               make_error("config.wrong_type", "cannot set " + type_name(*f) + " from text"));
        return std::move(r.diags);
      }
      YAML::Node node;
      try {
        node = YAML::Load(std::string(value));
      } catch (const YAML::Exception& e) {
        r.fail(YAML::Mark::null_mark(), path,
               make_error("config.syntax", "YAML syntax error: " + e.msg));
        return std::move(r.diags);
      }
      Reader inner{source, {}};
      read_field(inner, *f, node, YAML::Mark::null_mark(), target, path);
      for (Diagnostic& d : inner.diags) {
        d.line = 0;
        d.column = 0;
        r.diags.push_back(std::move(d));
      }
      return std::move(r.diags);
    }
    if (f->kind != Kind::object) {
      r.fail(YAML::Mark::null_mark(), path,
             make_error("config.wrong_type", "not an object: cannot set a key inside it"));
      return std::move(r.diags);
    }
    target = f->object_at(target);
    current = f->nested;
    rest = rest.substr(dot + 1);
  }
}

std::string render_yaml(const SchemaBase& schema, const void* obj) {
  std::string out;
  render_object(out, schema, obj, 0);
  return out;
}

std::string report(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

}  // namespace detail

std::string render_markdown(const SchemaBase& schema) {
  std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
  render_rows(out, schema, "");
  return out;
}

}  // namespace edgeward::config
