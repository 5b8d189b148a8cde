// `edgeward scan [--rules FILE] [--layer L] [--jsonl] [FILE|-]` (DESIGN §6): scans text with
// the embedded default pack, a YAML/JSON pack or a signed blob, and prints one JSON object per
// finding. Exit 0 nothing found, 1 something found, 2 error.
//
// The text is scanned as a request body (scope request, surface body) in the given layer
// (default pre-template), and, when it holds escapes written out, once more with them decoded,
// as the gateway reads a message. Findings print in priority order, then by offset.

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "core/json.hpp"
#include "rules/blob.hpp"
#include "rules/engine.hpp"
#include "rules/json_escapes.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

namespace edgeward::cli {

namespace {

constexpr const char* kUsage =
    "usage: edgeward scan [--rules FILE] [--layer pre-template|post-template|tool-call] [--jsonl] "
    "[FILE|-]\n"
    "  Scans text (FILE, or stdin) with the embedded default pack, or with --rules FILE (a YAML\n"
    "  or JSON rule pack, or a signed blob, whose signature is NOT checked here), and prints one\n"
    "  JSON object per finding: "
    "{\"reason_code\",\"rule_id\",\"severity\",\"action\",\"start\",\"end\"}\n"
    "  (byte offsets). --jsonl: each input line is {\"text\": ...}; prints {\"line\": n,\n"
    "  \"findings\": [...]} per line. Exit 0 nothing found, 1 found, 2 error.\n";

bool read_all(const std::string& path, std::string& out) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return !std::cin.bad();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

void write_finding(json::JsonWriter& w, const rules::Finding& f) {
  w.begin_object()
      .field("reason_code", f.reason_code)
      .field("rule_id", f.rule_id)
      .field("severity", rules::to_string(f.severity))
      .field("action", rules::to_string(f.action))
      .field("start", f.start)
      .field("end", f.end)
      .end_object();
}

// Adds to `findings` (the text's own, in priority order) each finding of the text's decoded
// reading that it does not hold already, placed on the bytes it was decoded from. One that
// overlaps a finding of the same rule is the same value read with an escape's letter glued to
// it (`\nsk-…` as `nsk-…`): the decoded one, whose bytes are the value's, is printed for both.
// (The gateway redacts the bytes of both readings instead, daemon/inspect/exchange.cpp: there a
// span too short would leak the rest of a value, here it is only reported.)
void place_decoded(const rules::FoldedText& map, const std::vector<rules::Finding>& decoded,
                   std::vector<rules::Finding>& findings) {
  const std::size_t own = findings.size();
  std::vector<bool> replaced(own, false);
  // The text's own findings by (rule, start), to look each decoded one up among those that can
  // overlap it: a finding spans at most kMaxPatternWidth bytes, so they start no further back
  // (one found through folded hidden characters may span more, and is then printed besides the
  // decoded one at worst). Every own finding against every decoded one was quadratic.
  std::vector<std::size_t> by_rule(own);
  for (std::size_t k = 0; k < own; ++k) by_rule[k] = k;
  auto key = [&](std::size_t k) { return std::pair(findings[k].rule_index, findings[k].start); };
  std::sort(by_rule.begin(), by_rule.end(),
            [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  for (rules::Finding f : decoded) {
    if (f.end <= f.start || f.end > map.text.size()) continue;
    f.start = map.begin[static_cast<std::size_t>(f.start)];
    f.end = map.end[static_cast<std::size_t>(f.end - 1)];
    const std::uint64_t back =
        f.start > rules::kMaxPatternWidth ? f.start - rules::kMaxPatternWidth : 0;
    auto it = std::lower_bound(by_rule.begin(), by_rule.end(), std::pair(f.rule_index, back),
                               [&](std::size_t k, const auto& v) { return key(k) < v; });
    bool same = false;
    for (; it != by_rule.end() && findings[*it].rule_index == f.rule_index &&
           findings[*it].start < f.end;
         ++it) {
      const rules::Finding& g = findings[*it];
      if (g.end <= f.start) continue;
      same = same || (g.start == f.start && g.end == f.end);
      replaced[*it] = replaced[*it] || !(g.start == f.start && g.end == f.end);
    }
    if (!same) findings.push_back(f);
  }
  // One pass: erasing each replaced finding in place moved the rest every time (quadratic).
  std::size_t kept = 0;
  for (std::size_t k = 0; k < findings.size(); ++k) {
    if (k < own && replaced[k]) continue;
    if (kept != k) findings[kept] = findings[k];
    ++kept;
  }
  findings.resize(kept);
  std::stable_sort(findings.begin(), findings.end(),
                   [](const rules::Finding& a, const rules::Finding& b) {
                     if (a.priority != b.priority) return a.priority < b.priority;
                     return a.start < b.start;
                   });
}

// The pack to scan with: the embedded one, a pack file, or the pack inside a blob.
Result<rules::Pack> load_rules(const std::string& path) {
  if (path.empty()) return rules::parse_pack(rules::default_pack_yaml(), "<embedded default pack>");
  std::string text;
  if (!read_all(path, text)) return make_error("cli.read_failed", "cannot read " + path);
  if (rules::is_envelope(text)) {
    auto blob = rules::read_blob_unverified(text);
    if (!blob.ok()) return blob.error();
    std::fprintf(stderr,
                 "edgeward scan: note: using blob version %llu without checking its signature "
                 "(use 'edgeward rules verify' for that)\n",
                 static_cast<unsigned long long>(blob->payload.version));
    return rules::load_blob_pack(blob->payload.pack_json);
  }
  return rules::parse_pack(text, path);
}

int run_scan(const std::vector<std::string>& args) {
  std::string rules_path, input = "-";
  rules::Layer layer = rules::Layer::pre_template;
  bool jsonl = false, have_input = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "edgeward scan: %s needs a value\n%s", flag, kUsage);
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--rules") {
      const std::string* v = value("--rules");
      if (!v) return 2;
      rules_path = *v;
    } else if (a == "--layer") {
      const std::string* v = value("--layer");
      if (!v) return 2;
      auto l = rules::parse_layer(*v);
      if (!l) {
        std::fprintf(stderr,
                     "edgeward scan: unknown layer '%s' (pre-template, post-template, tool-call)\n",
                     v->c_str());
        return 2;
      }
      layer = *l;
    } else if (a == "--jsonl") {
      jsonl = true;
    } else if (a == "--json") {
      // Output is always JSON; accepted for symmetry with the other subcommands.
    } else if (a == "--state-dir") {
      if (!value("--state-dir")) return 2;  // accepted by every subcommand; scan needs no state
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "edgeward scan: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else {
      if (have_input) {
        std::fprintf(stderr, "edgeward scan: one input only\n%s", kUsage);
        return 2;
      }
      input = a;
      have_input = true;
    }
  }

  auto pack = load_rules(rules_path);
  if (!pack.ok()) {
    std::fprintf(stderr, "edgeward scan: %s\n", pack.error().message.c_str());
    return 2;
  }
  auto compiled = rules::compile_rules(std::move(*pack));
  if (!compiled.ok()) {
    std::fprintf(stderr, "edgeward scan: %s\n", compiled.error().message.c_str());
    return 2;
  }
  std::string text;
  if (!read_all(input, text)) {
    std::fprintf(stderr, "edgeward scan: cannot read %s\n", input.c_str());
    return 2;
  }

  rules::Scanner scanner;
  std::vector<rules::Finding> findings;
  std::vector<rules::Finding> decoded_findings;
  rules::FoldedText decoded;
  bool found = false;
  std::string out;
  // As the gateway reads a message (docs/dialects.md, "Escapes written out in text"): a text
  // holding escapes written out (a JSON log's `\n`) is scanned decoded too, and what only that
  // reading finds is reported on the bytes it came from.
  auto scan = [&](std::string_view t) -> bool {
    findings.clear();
    auto s =
        scanner.scan(**compiled, rules::Scope::request, rules::Surface::body, layer, t, findings);
    if (s.ok() && rules::holds_text_escape(t)) {
      rules::unescape_text(t, true, decoded);
      decoded_findings.clear();
      s = scanner.scan(**compiled, rules::Scope::request, rules::Surface::body, layer, decoded.text,
                       decoded_findings);
      if (s.ok()) place_decoded(decoded, decoded_findings, findings);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "edgeward scan: %s\n", s.error().message.c_str());
      return false;
    }
    found |= !findings.empty();
    return true;
  };

  if (!jsonl) {
    if (!scan(text)) return 2;
    for (const auto& f : findings) {
      json::JsonWriter w(out);
      write_finding(w, f);
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return found ? 1 : 0;
  }

  simdjson::dom::parser parser;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    simdjson::dom::element doc;
    std::string_view value;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS ||
        doc["text"].get(value) != simdjson::SUCCESS) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fprintf(stderr, "edgeward scan: line %zu: expected a JSON object {\"text\": \"...\"}\n",
                   line_no);
      return 2;
    }
    if (!scan(value)) return 2;
    json::JsonWriter w(out);
    w.begin_object().field("line", line_no).key("findings").begin_array();
    for (const auto& f : findings) write_finding(w, f);
    w.end_array().end_object();
    out += '\n';
    if (out.size() > (1u << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return found ? 1 : 0;
}

const CommandRegistration kRegistration{"scan", "scan text for sensitive data and injections",
                                        run_scan};

}  // namespace

}  // namespace edgeward::cli
