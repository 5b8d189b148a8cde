#pragma once
// Config loading: YAML files read through a declarative, typed schema (STYLE.md habit 11).
//
// One table per struct says, for every key: its name, its type, its default (as YAML text), the
// member it lands in, and a description. That one table drives parsing, validation, the
// `--check-config` report, the effective-config dump and the Markdown table of
// docs/configuration.md, so none of them can drift from the others.
//
//   struct Limits { std::uint64_t max_request_body; std::chrono::milliseconds idle_timeout; };
//   struct Daemon { std::string listen; int workers; Mode mode; Limits limits;
//                   std::vector<Upstream> upstreams; std::optional<std::string> rules_file; };
//
//   const config::Schema<Limits> kLimits{
//       // name               type                 default   destination description
//       {"max_request_body", config::ByteSize{},  "8MiB",   &Limits::max_request_body,  "Largest
//       request body."},
//       {"idle_timeout",     config::Duration{},  "60s",    &Limits::idle_timeout,      "Idle
//       keep-alive."},
//   };
//   const config::Schema<Daemon> kDaemon{
//       {"listen",    config::String{.type = "address", .check = check_address}, "127.0.0.1:9087",
//                     &Daemon::listen, "Where applications connect."},
//       {"workers",   config::Int{.min = 1, .max = 256, .keywords = {{"auto", 0}}}, "auto",
//                     &Daemon::workers, "Event-loop threads; auto: one per core."},
//       {"mode",      config::Enum<Mode>{{"enforce", Mode::enforce}, {"monitor", Mode::monitor}},
//                     "enforce", &Daemon::mode, "monitor turns every block into monitor."},
//       {"limits",    config::Object{kLimits},       "", &Daemon::limits, "Request limits."},
//       {"upstreams", config::ObjectList{kUpstream}, "[]", &Daemon::upstreams, "LLM endpoints."},
//       {"rules_file", config::String{}, "null", &Daemon::rules_file, "A signed blob."},  //
//       optional<>
//   };
//   auto loaded = config::load_file(kDaemon, "/etc/edgeward/edgeward.yaml");
//   if (!loaded.ok()) { std::cerr << loaded.report(); return 1; }
//
// Types and destinations:
//   String{.type, .check}       std::string             any YAML scalar; `check` may refuse it
//   Bool{}                      bool                    true/false (also True/TRUE/False/FALSE)
//   Int{.min, .max, .keywords}  any integer type        decimal; keywords map words to numbers
//   Duration{.min, .max}        std::chrono::milliseconds   "250ms", "10s", "1h30m" (core/units)
//   ByteSize{.min, .max}        any unsigned integer    "8MiB", "64KiB", "1000" (core/units)
//   Enum<E>{{"word", E::x},…}   E                       one of the listed words
//   Choice{"a", "b"}            std::string             one of the listed words, kept as text
//   StringList{.check, .max_items}  std::vector<std::string>
//   Object{schema}              a struct U              a nested mapping (absent or null: defaults)
//   ObjectList{schema}          std::vector<U>          a sequence of mappings
// A destination of type std::optional<X> makes the key nullable: `null` (or `~`, or no value)
// stores std::nullopt. Any other null is an error. The default "" on an Object means "the nested
// defaults"; config::kRequired makes a key mandatory.
//
// Errors are all collected (the load never stops at the first) and each names the file, line,
// column and key path, with a stable code:
//   /etc/edgeward/edgeward.yaml:12:21: limits.max_request_body: bad byte size "ten": unknown
//   unit; use B, KiB, … (bytes.bad_format)
// Codes: config.syntax (broken YAML), config.unreadable (file), config.unknown_key (with a
// "did you mean" when a key is close), config.duplicate_key, config.missing_key,
// config.wrong_type (a mapping where a scalar belongs, a word where a number belongs, a null
// where null is not allowed), config.bad_value (a word not in an Enum/Choice), config.out_of_range
// (Int, Duration, ByteSize, StringList limits), the codes of core/units ("bytes.bad_format",
// "duration.negative", …), and whatever codes `check` functions return.
// Lines and columns are 1-based; a bad value points at the value, an unknown key at the key.
//
// Threads: schemas are immutable after construction and may be shared; loading is reentrant.
// Schemas are usually namespace-scope constants; a schema must outlive the schemas that nest it
// (define nested ones first, in the same file, or behind functions returning static objects).

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace edgeward::config {

// The default text that marks a key as required.
inline constexpr std::string_view kRequired = "\x01required";

// One problem found while loading.
struct Diagnostic {
  std::string file;  // as given to load_file (or the source name of load_string)
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string path;  // "limits.max_request_body", "upstreams[0].tls.verify"; "" for the document
  Error error;       // stable code and human message (which may quote the offending value)

  // "file:line:column: path: message (code)"; parts that are unknown are left out.
  std::string to_string() const;
};

// Validation of one string value (String::check, StringList::check).
using StringCheck = std::function<Status(std::string_view value)>;

// ---- Type descriptors (the "type" column of a schema row) ----

struct String {
  std::string type = "string";  // the type as the docs should name it ("address", "URL", …)
  StringCheck check = {};
  bool secret = false;  // the value (a key, a URL with a password) never appears in an error
};
struct Bool {};
struct Int {
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  // Words accepted in place of a number: {{"auto", 0}} for `workers: auto`.
  std::vector<std::pair<std::string, std::int64_t>> keywords = {};
};
struct Duration {
  std::chrono::milliseconds min{0};
  std::chrono::milliseconds max = std::chrono::milliseconds::max();
};
struct ByteSize {
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
};
template <class E>
struct Enum {
  Enum(std::initializer_list<std::pair<std::string, E>> c) : choices(c) {}
  std::vector<std::pair<std::string, E>> choices;
};
struct Choice {
  Choice(std::initializer_list<std::string> c) : choices(c) {}
  std::vector<std::string> choices;
};
struct StringList {
  std::string type = "string";  // the element type as the docs should name it
  StringCheck check = {};
  std::size_t max_items = std::numeric_limits<std::size_t>::max();
  bool secret = false;  // as String::secret, for every element
};
template <class U>
class Schema;
template <class U>
struct Object {
  Object(const Schema<U>& s) : schema(&s) {}  // NOLINT: implicit for CTAD in tables
  const Schema<U>* schema;
};
template <class U>
struct ObjectList {
  ObjectList(const Schema<U>& s) : schema(&s) {}  // NOLINT
  const Schema<U>* schema;
};

// ---- Type-erased schema (what the loader in config.cpp works on) ----

class SchemaBase;

namespace detail {

enum class Kind {
  string,
  boolean,
  integer,
  duration,
  byte_size,
  choice,
  string_list,
  object,
  object_list
};

// A parsed scalar or string list, handed to a field's setter.
struct Value {
  bool is_null = false;
  std::string text;                // string, choice word
  bool boolean = false;            // boolean
  std::int64_t integer = 0;        // integer; index into choices for choice
  std::uint64_t unsigned_int = 0;  // byte_size
  std::chrono::milliseconds duration{0};
  std::vector<std::string> list;  // string_list
};

struct FieldInfo {
  std::string name;
  Kind kind = Kind::string;
  bool nullable = false;
  std::string default_text;  // YAML; kRequired when required
  std::string description;
  std::string type_name;  // String::type, StringList::type

  std::int64_t min = 0, max = 0;                               // integer
  bool has_min = false, has_max = false;                       // integer: set by the schema
  std::vector<std::pair<std::string, std::int64_t>> keywords;  // integer
  std::chrono::milliseconds min_duration{0}, max_duration{0};  // duration
  std::uint64_t min_bytes = 0, max_bytes = 0;                  // byte_size
  std::vector<std::string> choices;                            // choice
  std::size_t max_items = 0;                                   // string_list
  StringCheck check;                                           // string, string_list
  bool secret = false;                                         // string, string_list
  const SchemaBase* nested = nullptr;                          // object, object_list

  std::function<void(void* obj, const Value& v)> set;  // scalars and string lists
  std::function<Value(const void* obj)> get;           // scalars and string lists
  std::function<void*(void* obj)> object_at;           // object
  std::function<const void*(const void* obj)> object_at_const;
  std::function<void(void* obj)> list_clear;              // object_list
  std::function<void*(void* obj)> list_append;            // object_list: new element
  std::function<std::size_t(const void* obj)> list_size;  // object_list
  std::function<const void*(const void* obj, std::size_t i)> list_at;
};

template <class M>
struct Unwrap {
  using type = M;
  static constexpr bool nullable = false;
};
template <class M>
struct Unwrap<std::optional<M>> {
  using type = M;
  static constexpr bool nullable = true;
};

template <class>
inline constexpr bool kAlwaysFalse = false;

template <class X>
struct IsObject : std::false_type {};
template <class U>
struct IsObject<Object<U>> : std::true_type {
  using element = U;
};
template <class X>
struct IsObjectList : std::false_type {};
template <class U>
struct IsObjectList<ObjectList<U>> : std::true_type {
  using element = U;
};
template <class X>
struct IsEnum : std::false_type {};
template <class E>
struct IsEnum<Enum<E>> : std::true_type {
  using element = E;
};

}  // namespace detail

// Lets a schema-level check report problems at a key of the object it checks.
class Checker {
 public:
  // A problem with `key` of the checked object (or with the object itself when key is "").
  void fail(std::string_view key, Error error);
  // A problem with element `index` of the list at `key`.
  void fail(std::string_view key, std::size_t index, Error error);

  struct Impl;
  explicit Checker(Impl* impl) : impl_(impl) {}

 private:
  Impl* impl_;
};

class SchemaBase {
 public:
  const std::vector<detail::FieldInfo>& fields() const { return fields_; }
  const detail::FieldInfo* find(std::string_view name) const;
  // Cross-field validation, run after an object has been read without errors.
  const std::function<void(const void* obj, Checker&)>& object_check() const { return check_; }

 protected:
  std::vector<detail::FieldInfo> fields_;
  std::function<void(const void* obj, Checker&)> check_;
};

// One row of a schema table: name, type, default (YAML text), destination, description.
template <class T>
class Field {
 public:
  template <class Type, class M>
  Field(std::string name, Type type, std::string_view default_yaml, M T::*dest,
        std::string description);

  detail::FieldInfo info;
};

template <class T>
class Schema : public SchemaBase {
 public:
  using CheckFn = std::function<void(const T&, Checker&)>;
  Schema(std::initializer_list<Field<T>> rows, CheckFn check = {}) {
    for (const Field<T>& row : rows) fields_.push_back(row.info);
    if (check) {
      check_ = [check](const void* obj, Checker& c) { check(*static_cast<const T*>(obj), c); };
    }
  }
};

// The outcome of a load: the value (meaningful only when ok()) and every problem found.
template <class T>
class Loaded {
 public:
  bool ok() const { return diagnostics_.empty(); }
  T& value() { return value_; }
  const T& value() const { return value_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  // Every diagnostic's to_string(), one per line, each ending with '\n'.
  std::string report() const;
  // One Error ("config.invalid") whose message is the report, for Result-returning callers.
  Error error() const;

  T value_{};
  std::vector<Diagnostic> diagnostics_;
};

// ---- The loader (non-template part, in config.cpp) ----
namespace detail {
std::vector<Diagnostic> parse_text(const SchemaBase& schema, void* obj, std::string_view text,
                                   const std::string& source);
std::vector<Diagnostic> read_file(const std::string& path, std::string& text);
std::vector<Diagnostic> apply_defaults(const SchemaBase& schema, void* obj);
std::vector<Diagnostic> apply_override(const SchemaBase& schema, void* obj,
                                       std::string_view key_path, std::string_view value,
                                       const std::string& source);
std::string render_yaml(const SchemaBase& schema, const void* obj);
std::string report(const std::vector<Diagnostic>& diagnostics);
}  // namespace detail

// Reads and validates a YAML file. An empty file gives the defaults.
template <class T>
Loaded<T> load_file(const Schema<T>& schema, const std::string& path);

// Reads and validates YAML text; `source` names it in diagnostics.
template <class T>
Loaded<T> load_string(const Schema<T>& schema, std::string_view yaml,
                      const std::string& source = "<config>");

// The value with every default applied (what an empty file gives). Diagnostics here mean the
// schema itself is wrong (a default that does not parse, a required key): tests check it.
template <class T>
Loaded<T> defaults(const Schema<T>& schema);

// Sets one key from a command-line flag (`--listen ADDR` → "listen", "limits.idle_timeout"),
// parsed and validated exactly like the file's value. Only scalar keys reachable through
// objects (not lists). `source` names the flag in diagnostics ("--listen").
template <class T>
std::vector<Diagnostic> set_from_text(const Schema<T>& schema, T& value, std::string_view key_path,
                                      std::string_view text, const std::string& source) {
  return detail::apply_override(schema, &value, key_path, text, source);
}

// The effective configuration as YAML, keys in schema order (for `--check-config`).
template <class T>
std::string to_yaml(const Schema<T>& schema, const T& value) {
  return detail::render_yaml(schema, &value);
}

// The schema as a Markdown table: key (dotted path, `[]` for list elements), type, default,
// description. docs/configuration.md embeds it.
std::string render_markdown(const SchemaBase& schema);

// ---- Template definitions ----

template <class T>
std::string Loaded<T>::report() const {
  return detail::report(diagnostics_);
}

template <class T>
Error Loaded<T>::error() const {
  return make_error("config.invalid", report());
}

template <class T>
Loaded<T> load_string(const Schema<T>& schema, std::string_view yaml, const std::string& source) {
  Loaded<T> out;
  out.diagnostics_ = detail::parse_text(schema, &out.value_, yaml, source);
  return out;
}

template <class T>
Loaded<T> load_file(const Schema<T>& schema, const std::string& path) {
  std::string text;
  Loaded<T> out;
  out.diagnostics_ = detail::read_file(path, text);
  if (!out.diagnostics_.empty()) return out;
  out.diagnostics_ = detail::parse_text(schema, &out.value_, text, path);
  return out;
}

template <class T>
Loaded<T> defaults(const Schema<T>& schema) {
  Loaded<T> out;
  out.diagnostics_ = detail::apply_defaults(schema, &out.value_);
  return out;
}

template <class T>
template <class Type, class M>
Field<T>::Field(std::string name, Type type, std::string_view default_yaml, M T::*dest,
                std::string description) {
  using detail::Kind;
  using detail::Value;
  using Inner = typename detail::Unwrap<M>::type;
  constexpr bool kNullable = detail::Unwrap<M>::nullable;
  info.name = std::move(name);
  info.nullable = kNullable;
  info.default_text = std::string(default_yaml);
  info.description = std::move(description);

  // Stores a parsed value (or null) into the member.
  auto store = [dest](void* obj, const Value& v, auto convert) {
    M& m = static_cast<T*>(obj)->*dest;
    if constexpr (kNullable) {
      if (v.is_null) {
        m.reset();
        return;
      }
      m = convert(v);
    } else {
      m = convert(v);
    }
  };
  // Reads the member back (null for an empty optional).
  auto load = [dest](const void* obj, auto fill) {
    const M& m = static_cast<const T*>(obj)->*dest;
    Value v;
    if constexpr (kNullable) {
      if (!m.has_value()) {
        v.is_null = true;
        return v;
      }
      fill(*m, v);
    } else {
      fill(m, v);
    }
    return v;
  };

  if constexpr (std::is_same_v<Type, String>) {
    static_assert(std::is_same_v<Inner, std::string>, "config::String needs a std::string member");
    info.kind = Kind::string;
    info.type_name = type.type;
    info.check = type.check;
    info.secret = type.secret;
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return x.text; });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.text = m; });
    };
  } else if constexpr (std::is_same_v<Type, Bool>) {
    static_assert(std::is_same_v<Inner, bool>, "config::Bool needs a bool member");
    info.kind = Kind::boolean;
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return x.boolean; });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.boolean = m; });
    };
  } else if constexpr (std::is_same_v<Type, Int>) {
    static_assert(std::is_integral_v<Inner> && !std::is_same_v<Inner, bool>,
                  "config::Int needs an integer member");
    info.kind = Kind::integer;
    // The range is also bounded by what the member can hold.
    constexpr auto kLo = std::numeric_limits<Inner>::min();
    constexpr auto kHi = std::numeric_limits<Inner>::max();
    info.min = type.min;
    info.max = type.max;
    info.has_min = type.min != std::numeric_limits<std::int64_t>::min();
    info.has_max = type.max != std::numeric_limits<std::int64_t>::max();
    if constexpr (std::is_signed_v<Inner>) {
      if (info.min < static_cast<std::int64_t>(kLo)) info.min = static_cast<std::int64_t>(kLo);
      if (info.max > static_cast<std::int64_t>(kHi)) info.max = static_cast<std::int64_t>(kHi);
    } else {
      if (info.min < 0) info.min = 0;
      if (static_cast<std::uint64_t>(kHi) < static_cast<std::uint64_t>(info.max)) {
        info.max = static_cast<std::int64_t>(kHi);
      }
    }
    info.keywords = type.keywords;
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return static_cast<Inner>(x.integer); });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.integer = static_cast<std::int64_t>(m); });
    };
  } else if constexpr (std::is_same_v<Type, Duration>) {
    static_assert(std::is_same_v<Inner, std::chrono::milliseconds>,
                  "config::Duration needs a std::chrono::milliseconds member");
    info.kind = Kind::duration;
    info.min_duration = type.min;
    info.max_duration = type.max;
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return x.duration; });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.duration = m; });
    };
  } else if constexpr (std::is_same_v<Type, ByteSize>) {
    static_assert(
        std::is_integral_v<Inner> && std::is_unsigned_v<Inner> && !std::is_same_v<Inner, bool>,
        "config::ByteSize needs an unsigned integer member");
    info.kind = Kind::byte_size;
    info.min_bytes = type.min;
    info.max_bytes = type.max;
    if (static_cast<std::uint64_t>(std::numeric_limits<Inner>::max()) < info.max_bytes) {
      info.max_bytes = static_cast<std::uint64_t>(std::numeric_limits<Inner>::max());
    }
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return static_cast<Inner>(x.unsigned_int); });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.unsigned_int = m; });
    };
  } else if constexpr (std::is_same_v<Type, Choice>) {
    static_assert(std::is_same_v<Inner, std::string>, "config::Choice needs a std::string member");
    info.kind = Kind::choice;
    info.choices = type.choices;
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return x.text; });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.text = m; });
    };
  } else if constexpr (detail::IsEnum<Type>::value) {
    static_assert(std::is_same_v<Inner, typename detail::IsEnum<Type>::element>,
                  "config::Enum<E> needs an E member");
    info.kind = Kind::choice;
    std::vector<Inner> values;
    for (const auto& [word, e] : type.choices) {
      info.choices.push_back(word);
      values.push_back(e);
    }
    std::vector<std::string> words = info.choices;
    info.set = [store, values](void* o, const Value& v) {
      store(o, v,
            [&values](const Value& x) { return values[static_cast<std::size_t>(x.integer)]; });
    };
    info.get = [load, values, words](const void* o) {
      return load(o, [&](const Inner& m, Value& v) {
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (values[i] == m) {
            v.integer = static_cast<std::int64_t>(i);
            v.text = words[i];
          }
        }
      });
    };
  } else if constexpr (std::is_same_v<Type, StringList>) {
    static_assert(std::is_same_v<Inner, std::vector<std::string>>,
                  "config::StringList needs a std::vector<std::string> member");
    info.kind = Kind::string_list;
    info.type_name = type.type;
    info.check = type.check;
    info.secret = type.secret;
    info.max_items = type.max_items;
    info.set = [store](void* o, const Value& v) {
      store(o, v, [](const Value& x) { return x.list; });
    };
    info.get = [load](const void* o) {
      return load(o, [](const Inner& m, Value& v) { v.list = m; });
    };
  } else if constexpr (detail::IsObject<Type>::value) {
    static_assert(std::is_same_v<Inner, typename detail::IsObject<Type>::element>,
                  "config::Object<U> needs a U member");
    static_assert(!kNullable, "config::Object members cannot be optional");
    info.kind = Kind::object;
    info.nested = type.schema;
    info.object_at = [dest](void* o) -> void* { return &(static_cast<T*>(o)->*dest); };
    info.object_at_const = [dest](const void* o) -> const void* {
      return &(static_cast<const T*>(o)->*dest);
    };
  } else if constexpr (detail::IsObjectList<Type>::value) {
    using U = typename detail::IsObjectList<Type>::element;
    static_assert(std::is_same_v<Inner, std::vector<U>>,
                  "config::ObjectList<U> needs a std::vector<U> member");
    static_assert(!kNullable, "config::ObjectList members cannot be optional");
    info.kind = Kind::object_list;
    info.nested = type.schema;
    info.list_clear = [dest](void* o) { (static_cast<T*>(o)->*dest).clear(); };
    info.list_append = [dest](void* o) -> void* {
      return &(static_cast<T*>(o)->*dest).emplace_back();
    };
    info.list_size = [dest](const void* o) { return (static_cast<const T*>(o)->*dest).size(); };
    info.list_at = [dest](const void* o, std::size_t i) -> const void* {
      return &(static_cast<const T*>(o)->*dest)[i];
    };
  } else {
    static_assert(detail::kAlwaysFalse<Type>,
                  "unknown config type, or its member type does not match (Enum<E> needs an E "
                  "member, Object<U> a U member, ObjectList<U> a std::vector<U> member)");
  }
}

}  // namespace edgeward::config
