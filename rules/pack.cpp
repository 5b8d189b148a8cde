#include "rules/pack.hpp"

#include <hs/hs.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "core/hex.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/units.hpp"
#include "rules/injection_intent.hpp"

namespace edgeward::rules {

namespace {

constexpr std::array<std::string_view, 2> kScopeNames = {"request", "response"};
constexpr std::array<std::string_view, 4> kSurfaceNames = {"headers", "body", "url", "tools"};
constexpr std::array<std::string_view, 3> kLayerNames = {"pre-template", "post-template",
                                                         "tool-call"};
constexpr std::array<std::string_view, 6> kKindNames = {
    "pattern", "tool_permission", "model_permission", "egress_domains", "max_tokens", "body_size"};
constexpr std::array<std::string_view, 3> kSpanNames = {"match", "token", "url"};
constexpr std::array<std::string_view, 32> kValidatorNames = {"luhn",
                                                              "credit_card",
                                                              "iban",
                                                              "us_ssn",
                                                              "us_itin",
                                                              "aba_routing",
                                                              "email",
                                                              "phone",
                                                              "ipv4",
                                                              "url_ipv4_host",
                                                              "uk_nino",
                                                              "swift_bic",
                                                              "calendar_date",
                                                              "base58check",
                                                              "bech32",
                                                              "eip55",
                                                              "crypto_wallet",
                                                              "github_token",
                                                              "jwt",
                                                              "aws_secret",
                                                              "db_connection_string",
                                                              "password_value",
                                                              "password_word",
                                                              "invisible_unicode",
                                                              "base64_text",
                                                              "ipv6",
                                                              "exfil_url",
                                                              "not_negated",
                                                              "injection_override",
                                                              "injection_role_hijack",
                                                              "injection_extraction",
                                                              "injection_jailbreak"};

template <class E, std::size_t N>
std::optional<E> parse_enum(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

template <std::size_t N>
std::string join_names(const std::array<std::string_view, N>& names) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Context words and phrases compare on collapsed whitespace; store them that way.
std::string normalize_word(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string normalize_allow(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// Reads 4 hex digits at `p`; -1 when they are not.
long hex4(std::string_view s, std::size_t p) {
  if (p + 4 > s.size()) return -1;
  long v = 0;
  for (std::size_t i = p; i < p + 4; ++i) {
    int h = hex::digit_value(s[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// JSON writes characters outside the BMP as a UTF-16 surrogate pair ("\ud83d\udd13"); YAML, whose
// loader we use for JSON too, only knows code points and refuses surrogates. Rewrite each pair
// as the YAML escape "\U0001f513" (same meaning in a double-quoted scalar). Escaped backslashes
// ("\\ud83d") are left alone.
std::string join_surrogate_pairs(std::string_view text) {
  if (text.find("\\u") == std::string_view::npos && text.find("\\U") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      if (text[i + 1] == 'u') {
        long hi = hex4(text, i + 2);
        if (hi >= 0xD800 && hi <= 0xDBFF && i + 12 <= text.size() && text[i + 6] == '\\' &&
            text[i + 7] == 'u') {
          long lo = hex4(text, i + 8);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            long cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            char buf[11];
            std::snprintf(buf, sizeof(buf), "\\U%08lX", cp);
            out += buf;
            i += 12;
            continue;
          }
        }
      }
      out += text[i];
      out += text[i + 1];  // an escape pair, so "\\\\u" stays two characters plus "u"
      i += 2;
      continue;
    }
    out += text[i++];
  }
  return out;
}

// Collects errors while walking one document.
class PackLoader {
 public:
  PackLoadResult load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(join_surrogate_pairs(text));
    } catch (const YAML::Exception& e) {
      errors_.push_back(
          PackError{"rules.yaml_syntax", "", "", e.mark.is_null() ? 0 : e.mark.line + 1, e.msg});
      return finish();
    }
    if (!root.IsMap()) {
      add("rules.bad_type", "", root, "a rule pack must be a mapping with apiVersion, kind, rules");
      return finish();
    }
    Pack pack;
    check_keys(root, "", {"apiVersion", "kind", "name", "description", "rules"});
    if (auto v = required_string(root, "apiVersion", "apiVersion")) {
      if (*v != "edgeward/v1") {
        add("rules.bad_api_version", "apiVersion", root["apiVersion"],
            "apiVersion must be edgeward/v1");
      }
    }
    if (auto v = required_string(root, "kind", "kind")) {
      if (*v != "RulePack") add("rules.bad_value", "kind", root["kind"], "kind must be RulePack");
    }
    if (auto v = required_string(root, "name", "name")) pack.name = *v;
    if (auto v = optional_string(root, "description", "description")) pack.description = *v;
    YAML::Node rules = root["rules"];
    if (!rules) {
      add("rules.missing_field", "rules", root, "missing field 'rules'");
    } else if (!rules.IsSequence()) {
      add("rules.bad_type", "rules", rules, "rules must be a list");
    } else if (rules.size() == 0) {
      add("rules.empty_rules", "rules", rules, "a pack needs at least one rule");
    } else {
      std::unordered_map<std::string, std::size_t> ids;
      for (std::size_t i = 0; i < rules.size(); ++i) {
        std::string path = "rules[" + std::to_string(i) + "]";
        Rule rule;
        const bool ok = load_rule(rules[i], path, rule);
        // Duplicates are checked for every rule with a valid id, even one with other errors.
        if (!rule.id.empty()) {
          auto [it, inserted] = ids.emplace(rule.id, i);
          if (!inserted) {
            rule_id_ = rule.id;
            add("rules.duplicate_id", path + ".id", rules[i]["id"],
                "duplicate id (also used by rules[" + std::to_string(it->second) + "])");
          }
        }
        if (ok) pack.rules.push_back(std::move(rule));
      }
    }
    if (errors_.empty()) result_.pack = std::move(pack);
    return finish();
  }

 private:
  PackLoadResult finish() {
    result_.errors = std::move(errors_);
    return std::move(result_);
  }

  void add(std::string code, std::string path, const YAML::Node& at, std::string message) {
    int line = 0;
    if (at.IsDefined() && !at.Mark().is_null()) line = at.Mark().line + 1;
    errors_.push_back(
        PackError{std::move(code), std::move(path), rule_id_, line, std::move(message)});
  }

  void check_keys(const YAML::Node& map, const std::string& path,
                  std::initializer_list<std::string_view> known) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        add("rules.bad_type", path, it->first, "keys must be strings");
        continue;
      }
      const std::string& k = it->first.Scalar();
      if (std::find(known.begin(), known.end(), k) == known.end()) {
        // Field names are short lower-case words. Anything else is not echoed: a credentials
        // file passed by mistake must not be printed by the tool that guards secrets.
        const bool echo = k.size() <= 32 && std::all_of(k.begin(), k.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                          });
        const std::string shown = echo ? k : std::string("<key not shown>");
        add("rules.unknown_key", path.empty() ? shown : path + "." + shown, it->first,
            echo ? "unknown key '" + k + "'"
                 : "unknown key (not shown: not a lower-case field name)");
      }
    }
  }

  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      add("rules.bad_type", path, n, "expected a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> optional_string(const YAML::Node& map, const char* key,
                                             const std::string& path) {
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return std::nullopt;
    return scalar(n, path);
  }

  std::optional<std::string> required_string(const YAML::Node& map, const char* key,
                                             const std::string& path) {
    YAML::Node n = map[key];
    if (!n || n.IsNull()) {
      add("rules.missing_field", path, map, std::string("missing field '") + key + "'");
      return std::nullopt;
    }
    return scalar(n, path);
  }

  std::optional<std::vector<std::string>> string_list(const YAML::Node& n,
                                                      const std::string& path) {
    if (!n.IsSequence()) {
      add("rules.bad_type", path, n, "expected a list of strings");
      return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (std::size_t i = 0; i < n.size(); ++i) {
      auto s = scalar(n[i], path + "[" + std::to_string(i) + "]");
      if (s) {
        out.push_back(*s);
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    add("rules.bad_type", path, n, "expected true or false");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const YAML::Node& n, const std::string& path,
                                      std::int64_t min, std::int64_t max) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end == s.c_str() + s.size() && errno == 0) {
        if (v < min || v > max) {
          add("rules.bad_value", path, n,
              "must be between " + std::to_string(min) + " and " + std::to_string(max));
          return std::nullopt;
        }
        return v;
      }
    }
    add("rules.bad_type", path, n, "expected an integer");
    return std::nullopt;
  }

  std::optional<double> number(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) {
      const std::string& s = n.Scalar();
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return v;
    }
    add("rules.bad_type", path, n, "expected a number");
    return std::nullopt;
  }

  // A list of enum names, sorted and de-duplicated; an absent key gives `fallback`.
  template <class E, std::size_t N>
  std::vector<E> enum_list(const YAML::Node& map, const char* key, const std::string& path,
                           const std::array<std::string_view, N>& names, std::vector<E> fallback) {
    YAML::Node n = map[key];
    if (!n || n.IsNull()) return fallback;
    auto items = string_list(n, path);
    if (!items) return fallback;
    if (items->empty()) {
      add("rules.bad_value", path, n,
          "must not be empty (one or more of: " + join_names(names) + ")");
      return fallback;
    }
    std::set<E> out;
    for (std::size_t i = 0; i < items->size(); ++i) {
      auto v = parse_enum<E>(names, (*items)[i]);
      if (!v) {
        add("rules.bad_value", path + "[" + std::to_string(i) + "]", n[i],
            "unknown value '" + (*items)[i] + "' (one of: " + join_names(names) + ")");
        continue;
      }
      out.insert(*v);
    }
    return std::vector<E>(out.begin(), out.end());
  }

  bool load_rule(const YAML::Node& n, const std::string& path, Rule& rule) {
    rule_id_.clear();
    if (!n.IsMap()) {
      add("rules.bad_type", path, n, "a rule must be a mapping");
      return false;
    }
    std::size_t errors_before = errors_.size();
    // The id first, so that every later error can name the rule.
    if (auto id = required_string(n, "id", path + ".id")) {
      if (!ids::is_uuid(*id)) {
        add("rules.bad_uuid", path + ".id", n["id"], "id must be a UUID (8-4-4-4-12 hex digits)");
      } else {
        rule.id = lower(*id);
        rule_id_ = rule.id;
      }
    }
    RuleKind kind = RuleKind::pattern;
    if (auto k = optional_string(n, "kind", path + ".kind")) {
      if (auto parsed = parse_enum<RuleKind>(kKindNames, *k)) {
        kind = *parsed;
      } else {
        add("rules.bad_value", path + ".kind", n["kind"],
            "unknown kind '" + *k + "' (one of: " + join_names(kKindNames) + ")");
        kind = RuleKind::pattern;
      }
    }
    rule.kind = kind;
    // Keys of the other kinds are known too: using one on the wrong kind gets the more helpful
    // rules.field_not_allowed instead of rules.unknown_key.
    check_keys(n, path,
               {"id",
                "name",
                "description",
                "reason_code",
                "severity",
                "action",
                "priority",
                "mode",
                "kind",
                "scope",
                "matched_in",
                "layers",
                "detect",
                "allow",
                "examples",
                "allowed_tools",
                "allowed_models",
                "denied_models",
                "allowed_domains",
                "limit"});
    if (auto v = required_string(n, "name", path + ".name")) rule.name = *v;
    if (auto v = optional_string(n, "description", path + ".description")) rule.description = *v;
    const ReasonCode* code = nullptr;
    if (auto v = required_string(n, "reason_code", path + ".reason_code")) {
      code = find_reason_code(*v);
      if (!code) {
        add("rules.unknown_reason_code", path + ".reason_code", n["reason_code"],
            "unknown reason code '" + *v + "' (see docs/reason-codes.md)");
      } else {
        rule.reason_code = *v;
      }
    }
    rule.severity = code ? code->default_severity : Severity::medium;
    if (auto v = optional_string(n, "severity", path + ".severity")) {
      if (auto s = parse_severity(*v)) {
        rule.severity = *s;
      } else {
        add("rules.bad_value", path + ".severity", n["severity"],
            "unknown severity '" + *v + "' (one of: critical, high, medium, low, info)");
      }
    }
    rule.action = Action::block;
    if (auto v = optional_string(n, "action", path + ".action")) {
      if (auto a = parse_action(*v)) {
        rule.action = *a;
      } else {
        add("rules.bad_value", path + ".action", n["action"],
            "unknown action '" + *v + "' (one of: block, redact, monitor)");
      }
    }
    if (YAML::Node p = n["priority"]; p && !p.IsNull()) {
      if (auto v = integer(p, path + ".priority", -1000000, 1000000)) {
        rule.priority = static_cast<std::int32_t>(*v);
      }
    }
    if (auto v = optional_string(n, "mode", path + ".mode")) {
      if (*v == "enforce") {
        rule.mode = RuleMode::enforce;
      } else if (*v == "monitor") {
        rule.mode = RuleMode::monitor;
      } else {
        add("rules.bad_value", path + ".mode", n["mode"],
            "unknown mode '" + *v + "' (one of: enforce, monitor)");
      }
    }
    rule.scope = enum_list<Scope>(n, "scope", path + ".scope", kScopeNames,
                                  {Scope::request, Scope::response});
    if (kind == RuleKind::pattern) {
      load_pattern_rule(n, path, rule);
    } else {
      load_policy_rule(n, path, rule);
    }
    return errors_.size() == errors_before;
  }

  void not_allowed(const YAML::Node& n, const std::string& path,
                   std::initializer_list<const char*> keys, std::string_view kind) {
    for (const char* k : keys) {
      if (n[k]) {
        add("rules.field_not_allowed", path + "." + k, n[k],
            std::string("'") + k + "' does not apply to kind " + std::string(kind));
      }
    }
  }

  void load_pattern_rule(const YAML::Node& n, const std::string& path, Rule& rule) {
    rule.matched_in = enum_list<Surface>(n, "matched_in", path + ".matched_in", kSurfaceNames,
                                         {Surface::body, Surface::tools});
    rule.layers = enum_list<Layer>(n, "layers", path + ".layers", kLayerNames,
                                   {Layer::pre_template, Layer::post_template, Layer::tool_call});
    YAML::Node d = n["detect"];
    const std::string dpath = path + ".detect";
    if (!d || d.IsNull()) {
      add("rules.missing_field", dpath, n,
          "missing field 'detect' (a pattern rule needs patterns)");
    } else if (!d.IsMap()) {
      add("rules.bad_type", dpath, d, "detect must be a mapping");
    } else {
      check_keys(d, dpath, {"patterns", "caseless", "validator", "context", "min_entropy", "span"});
      if (YAML::Node c = d["caseless"]; c && !c.IsNull()) {
        if (auto v = boolean(c, dpath + ".caseless")) rule.detect.caseless = *v;
      }
      if (auto v = optional_string(d, "span", dpath + ".span")) {
        if (auto m = parse_enum<SpanMode>(kSpanNames, *v)) {
          rule.detect.span = *m;
        } else {
          add("rules.bad_value", dpath + ".span", d["span"],
              "unknown span '" + *v + "' (one of: " + join_names(kSpanNames) + ")");
        }
      }
      YAML::Node pats = d["patterns"];
      if (!pats || pats.IsNull()) {
        add("rules.missing_field", dpath + ".patterns", d, "missing field 'patterns'");
      } else if (auto list = string_list(pats, dpath + ".patterns")) {
        if (list->empty()) {
          add("rules.empty_patterns", dpath + ".patterns", pats, "patterns must not be empty");
        }
        for (std::size_t i = 0; i < list->size(); ++i) {
          check_pattern((*list)[i], rule.detect.caseless, rule.detect.span == SpanMode::match,
                        dpath + ".patterns[" + std::to_string(i) + "]", pats[i]);
        }
        rule.detect.patterns = std::move(*list);
      }
      if (auto v = optional_string(d, "validator", dpath + ".validator")) {
        if (auto val = parse_enum<Validator>(kValidatorNames, *v)) {
          rule.detect.validator = *val;
        } else {
          add("rules.unknown_validator", dpath + ".validator", d["validator"],
              "unknown validator '" + *v + "' (one of: " + join_names(kValidatorNames) + ")");
        }
      }
      if (YAML::Node e = d["min_entropy"]; e && !e.IsNull()) {
        if (auto v = number(e, dpath + ".min_entropy")) {
          if (*v < 0 || *v > 8) {
            add("rules.bad_value", dpath + ".min_entropy", e,
                "min_entropy is in bits per byte: 0 to 8");
          } else {
            rule.detect.min_entropy = *v;
          }
        }
      }
      if (YAML::Node c = d["context"]; c && !c.IsNull()) load_context(c, dpath + ".context", rule);
      check_model_window(d, dpath, rule);
    }
    if (YAML::Node a = n["allow"]; a && !a.IsNull()) {
      if (auto list = string_list(a, path + ".allow")) {
        for (auto& v : *list) rule.allow.push_back(normalize_allow(v));
        std::sort(rule.allow.begin(), rule.allow.end());
        rule.allow.erase(std::unique(rule.allow.begin(), rule.allow.end()), rule.allow.end());
      }
    }
    if (YAML::Node e = n["examples"]; e && !e.IsNull()) {
      const std::string epath = path + ".examples";
      if (!e.IsMap()) {
        add("rules.bad_type", epath, e, "examples must be a mapping with match and no_match");
      } else {
        check_keys(e, epath, {"match", "no_match"});
        if (YAML::Node m = e["match"]; m && !m.IsNull()) {
          if (auto list = string_list(m, epath + ".match")) rule.examples.match = std::move(*list);
        }
        if (YAML::Node m = e["no_match"]; m && !m.IsNull()) {
          if (auto list = string_list(m, epath + ".no_match")) {
            rule.examples.no_match = std::move(*list);
          }
        }
      }
    }
    not_allowed(n, path,
                {"allowed_tools", "allowed_models", "denied_models", "allowed_domains", "limit"},
                "pattern");
  }

  // The injection model reads kWindow bytes each side of a candidate; the stream scanner keeps
  // and waits for only context.within of them, so a smaller window would let stream and block
  // mode disagree.
  void check_model_window(const YAML::Node& d, const std::string& dpath, const Rule& rule) {
    const auto v = rule.detect.validator;
    if (!v || !scores_window(*v)) return;
    if (!rule.detect.context || rule.detect.context->within < injection::kWindow) {
      add("rules.bad_value", dpath + ".context.within", d,
          "validator " + std::string(to_string(*v)) + " reads " +
              std::to_string(injection::kWindow) +
              " bytes each side: context.within must be >= " + std::to_string(injection::kWindow));
    }
  }

  void load_context(const YAML::Node& c, const std::string& cpath, Rule& rule) {
    if (!c.IsMap()) {
      add("rules.bad_type", cpath, c, "context must be a mapping with words, within, required");
      return;
    }
    check_keys(c, cpath, {"words", "within", "required", "exclude"});
    ContextSpec ctx;
    if (YAML::Node w = c["words"]; w && !w.IsNull()) {
      if (auto list = string_list(w, cpath + ".words")) {
        for (auto& s : *list) {
          std::string word = normalize_word(s);
          if (word.empty()) {
            add("rules.bad_value", cpath + ".words", w, "context words must not be empty");
            continue;
          }
          ctx.words.push_back(std::move(word));
        }
      }
    }
    if (YAML::Node w = c["exclude"]; w && !w.IsNull()) {
      if (auto list = string_list(w, cpath + ".exclude")) {
        for (auto& s : *list) {
          std::string word = normalize_word(s);
          if (!word.empty()) ctx.exclude.push_back(std::move(word));
        }
      }
    }
    if (YAML::Node w = c["within"]; w && !w.IsNull()) {
      if (auto v = integer(w, cpath + ".within", 1, kMaxContextWindow)) {
        ctx.within = static_cast<std::uint32_t>(*v);
      }
    }
    if (YAML::Node r = c["required"]; r && !r.IsNull()) {
      if (auto v = boolean(r, cpath + ".required")) ctx.required = *v;
    }
    if (ctx.required && ctx.words.empty()) {
      add("rules.missing_field", cpath + ".words", c, "required context needs at least one word");
    }
    rule.detect.context = std::move(ctx);
  }

  void load_policy_rule(const YAML::Node& n, const std::string& path, Rule& rule) {
    std::string_view kind = to_string(rule.kind);
    not_allowed(n, path, {"matched_in", "layers", "detect", "allow", "examples"}, kind);
    auto names = [&](const char* key, bool required, bool lowercase) {
      std::vector<std::string> out;
      YAML::Node v = n[key];
      if (!v || v.IsNull()) {
        if (required) {
          add("rules.missing_field", path + "." + key, n,
              std::string("kind ") + std::string(kind) + " needs '" + key + "'");
        }
        return out;
      }
      if (auto list = string_list(v, path + "." + key)) {
        for (auto& s : *list) out.push_back(lowercase ? lower(s) : s);
      }
      return out;
    };
    const char* own[] = {"allowed_tools", "allowed_models", "denied_models", "allowed_domains",
                         "limit"};
    auto owns = [&](std::string_view key) {
      switch (rule.kind) {
        case RuleKind::tool_permission:
          return key == "allowed_tools";
        case RuleKind::model_permission:
          return key == "allowed_models" || key == "denied_models";
        case RuleKind::egress_domains:
          return key == "allowed_domains";
        case RuleKind::max_tokens:
        case RuleKind::body_size:
          return key == "limit";
        case RuleKind::pattern:
          return false;
      }
      return false;
    };
    for (const char* key : own) {
      if (n[key] && !owns(key)) {
        add("rules.field_not_allowed", path + "." + key, n[key],
            std::string("'") + key + "' does not apply to kind " + std::string(kind));
      }
    }
    switch (rule.kind) {
      case RuleKind::tool_permission:
        rule.allowed_tools = names("allowed_tools", true, false);
        break;
      case RuleKind::model_permission:
        rule.allowed_models = names("allowed_models", false, false);
        rule.denied_models = names("denied_models", false, false);
        if (!n["allowed_models"] && !n["denied_models"]) {
          add("rules.missing_field", path + ".allowed_models", n,
              "kind model_permission needs 'allowed_models' or 'denied_models'");
        }
        break;
      case RuleKind::egress_domains:
        rule.allowed_domains = names("allowed_domains", true, true);
        break;
      case RuleKind::max_tokens:
      case RuleKind::body_size: {
        YAML::Node l = n["limit"];
        const std::string lpath = path + ".limit";
        if (!l || l.IsNull()) {
          add("rules.missing_field", lpath, n,
              std::string("kind ") + std::string(kind) + " needs 'limit'");
        } else if (rule.kind == RuleKind::body_size && l.IsScalar()) {
          auto bytes = units::parse_byte_size(l.Scalar());
          if (!bytes.ok()) {
            add("rules.bad_value", lpath, l, "limit: " + bytes.error().message);
          } else if (*bytes == 0) {
            add("rules.bad_value", lpath, l, "limit must be greater than 0");
          } else {
            rule.limit = *bytes;
          }
        } else if (auto v = integer(l, lpath, 1, INT64_MAX)) {
          rule.limit = static_cast<std::uint64_t>(*v);
        }
        break;
      }
      case RuleKind::pattern:
        break;
    }
  }

  void check_pattern(const std::string& pattern, bool caseless, bool som, const std::string& path,
                     const YAML::Node& at) {
    if (pattern.find('\0') != std::string::npos) {
      add("rules.bad_pattern", path, at, "pattern contains a NUL byte");
      return;
    }
    unsigned flags = (som ? HS_FLAG_SOM_LEFTMOST : 0u) | (caseless ? HS_FLAG_CASELESS : 0u);
    hs_expr_info_t* info = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_expression_info(pattern.c_str(), flags, &info, &err) != HS_SUCCESS) {
      add("rules.bad_pattern", path, at,
          std::string("Hyperscan: ") + (err && err->message ? err->message : "invalid pattern"));
      if (err) hs_free_compile_error(err);
      return;
    }
    unsigned max_width = info->max_width;
    unsigned min_width = info->min_width;
    std::free(info);  // allocated with Hyperscan's misc allocator (malloc by default)
    if (min_width == 0) {
      add("rules.bad_pattern", path, at, "pattern can match the empty string");
    } else if (max_width == UINT_MAX || max_width > kMaxPatternWidth) {
      add("rules.unbounded_pattern", path, at,
          "pattern has no maximum match length within " + std::to_string(kMaxPatternWidth) +
              " bytes; bound its repeats (e.g. {1,256} instead of + or *) so streams can be "
              "scanned with a bounded holdback");
    }
  }

  PackLoadResult result_;
  std::vector<PackError> errors_;
  std::string rule_id_;
};

template <class E, std::size_t N>
void write_enum_list(json::JsonWriter& w, std::string_view key, const std::vector<E>& v,
                     const std::array<std::string_view, N>& names) {
  w.key(key).begin_array();
  for (E e : v) w.string(names[static_cast<std::size_t>(e)]);
  w.end_array();
}

void write_strings(json::JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

}  // namespace

bool allow_ignores_grouping(const Rule& rule) {
  if (!rule.detect.validator) return false;
  switch (*rule.detect.validator) {
    case Validator::luhn:
    case Validator::credit_card:
    case Validator::iban:
    case Validator::us_ssn:
    case Validator::us_itin:
    case Validator::aba_routing:
    case Validator::uk_nino:
    case Validator::phone:
      return true;
    default:
      return false;
  }
}

std::size_t allow_separator_at(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  const unsigned char c = at(0);
  if (c == '-' || c == '.' || c == '/' || std::isspace(c)) return 1;
  if (c == 0xC2 && at(1) == 0xA0) return 2;
  if (c == 0xE2 && at(1) == 0x80 && (at(2) == 0x89 || at(2) == 0xAF)) return 3;
  return 0;
}

std::string_view to_string(Scope s) {
  return kScopeNames[static_cast<std::size_t>(s)];
}
std::string_view to_string(Surface s) {
  return kSurfaceNames[static_cast<std::size_t>(s)];
}
std::string_view to_string(Layer l) {
  return kLayerNames[static_cast<std::size_t>(l)];
}
std::string_view to_string(RuleKind k) {
  return kKindNames[static_cast<std::size_t>(k)];
}
std::string_view to_string(RuleMode m) {
  return m == RuleMode::enforce ? "enforce" : "monitor";
}
std::string_view to_string(Validator v) {
  return kValidatorNames[static_cast<std::size_t>(v)];
}
std::optional<Scope> parse_scope(std::string_view t) {
  return parse_enum<Scope>(kScopeNames, t);
}
std::optional<Surface> parse_surface(std::string_view t) {
  return parse_enum<Surface>(kSurfaceNames, t);
}
std::optional<Layer> parse_layer(std::string_view t) {
  return parse_enum<Layer>(kLayerNames, t);
}
std::optional<RuleKind> parse_rule_kind(std::string_view t) {
  return parse_enum<RuleKind>(kKindNames, t);
}
std::optional<Validator> parse_validator(std::string_view t) {
  return parse_enum<Validator>(kValidatorNames, t);
}

bool Rule::applies_to(Scope s, Surface f, Layer l) const {
  return std::find(scope.begin(), scope.end(), s) != scope.end() &&
         std::find(matched_in.begin(), matched_in.end(), f) != matched_in.end() &&
         std::find(layers.begin(), layers.end(), l) != layers.end();
}

std::string PackError::to_string(std::string_view source_name) const {
  std::string out(source_name);
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
  }
  out += ": ";
  if (!path.empty()) {
    out += path;
    if (!rule_id.empty()) out += " (rule " + rule_id + ")";
    out += ": ";
  }
  out += message;
  out += " [" + code + "]";
  return out;
}

PackLoadResult load_pack(std::string_view text, std::string_view /*source_name*/) {
  return PackLoader().load(text);
}

Result<Pack> parse_pack(std::string_view text, std::string_view source_name) {
  PackLoadResult r = load_pack(text, source_name);
  if (r.pack) return std::move(*r.pack);
  std::string message;
  for (const auto& e : r.errors) {
    if (!message.empty()) message += '\n';
    message += e.to_string(source_name);
  }
  return make_error("rules.pack_invalid", std::move(message));
}

std::string pack_to_json(const Pack& pack) {
  json::JsonWriter w;
  w.begin_object();
  w.field("apiVersion", pack.api_version).field("kind", "RulePack").field("name", pack.name);
  if (!pack.description.empty()) w.field("description", pack.description);
  w.key("rules").begin_array();
  for (const Rule& r : pack.rules) {
    w.begin_object();
    w.field("id", r.id).field("name", r.name);
    if (!r.description.empty()) w.field("description", r.description);
    w.field("reason_code", r.reason_code)
        .field("severity", to_string(r.severity))
        .field("action", to_string(r.action))
        .field("priority", r.priority)
        .field("mode", to_string(r.mode))
        .field("kind", to_string(r.kind));
    write_enum_list(w, "scope", r.scope, kScopeNames);
    switch (r.kind) {
      case RuleKind::pattern: {
        write_enum_list(w, "matched_in", r.matched_in, kSurfaceNames);
        write_enum_list(w, "layers", r.layers, kLayerNames);
        w.key("detect").begin_object();
        write_strings(w, "patterns", r.detect.patterns);
        w.field("caseless", r.detect.caseless);
        w.field("span", kSpanNames[static_cast<std::size_t>(r.detect.span)]);
        if (r.detect.validator) w.field("validator", to_string(*r.detect.validator));
        if (r.detect.min_entropy > 0) w.field("min_entropy", r.detect.min_entropy);
        if (r.detect.context) {
          const ContextSpec& c = *r.detect.context;
          w.key("context").begin_object();
          write_strings(w, "words", c.words);
          w.field("within", static_cast<std::uint64_t>(c.within)).field("required", c.required);
          write_strings(w, "exclude", c.exclude);
          w.end_object();
        }
        w.end_object();
        write_strings(w, "allow", r.allow);
        w.key("examples").begin_object();
        write_strings(w, "match", r.examples.match);
        write_strings(w, "no_match", r.examples.no_match);
        w.end_object();
        break;
      }
      case RuleKind::tool_permission:
        write_strings(w, "allowed_tools", r.allowed_tools);
        break;
      case RuleKind::model_permission:
        write_strings(w, "allowed_models", r.allowed_models);
        write_strings(w, "denied_models", r.denied_models);
        break;
      case RuleKind::egress_domains:
        write_strings(w, "allowed_domains", r.allowed_domains);
        break;
      case RuleKind::max_tokens:
      case RuleKind::body_size:
        w.field("limit", r.limit);
        break;
    }
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace edgeward::rules
