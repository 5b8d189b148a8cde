// `edgeward rules lint|test|show|keygen|sign|verify` (DESIGN §6). lint, test and show live
// here; keygen, sign and verify are in cli/rules_signing.cpp.
//
// Exit codes: lint 0 clean / 2 errors; test 0 all examples pass / 1 a failure / 2 the pack does
// not load; show 0 / 2.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/rules_signing.hpp"
#include "core/json.hpp"
#include "rules/blob.hpp"
#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/pack_examples.hpp"
#include "store/rule_blob_store.hpp"

namespace edgeward::cli {

namespace {

constexpr const char* kUsage =
    "usage: edgeward rules <command> [options]\n"
    "  lint PACK.yaml             check a pack; print every error (exit 2 if any)\n"
    "  test PACK.yaml             run every example of every rule (exit 1 on a failure)\n"
    "  show [--active] [--json] [--state-dir DIR]\n"
    "                             list the embedded default pack's rules, or with --active the\n"
    "                             rules the gateway enforces from its store\n"
    "  keygen --out KEYFILE       new Ed25519 signing key (KEYFILE, KEYFILE.pub)\n"
    "  sign PACK.yaml --key KEYFILE --version N --tenant T [--expires 30d] -o BLOB\n"
    "  verify BLOB --pubkey KEY [--tenant T]\n";

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Loads PACK for lint/test: prints every loader error; returns nullopt when there was one.
std::optional<rules::Pack> load_for(const char* cmd, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].empty() || args[0][0] == '-') {
    std::fprintf(stderr, "edgeward rules %s: expected one PACK file\n%s", cmd, kUsage);
    return std::nullopt;
  }
  std::string text;
  if (!read_file(args[0], text)) {
    std::fprintf(stderr, "edgeward rules %s: cannot read %s\n", cmd, args[0].c_str());
    return std::nullopt;
  }
  rules::PackLoadResult r = rules::load_pack(text, args[0]);
  for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.to_string(args[0]).c_str());
  if (!r.pack) {
    std::fprintf(stderr, "edgeward rules %s: %zu error(s) in %s\n", cmd, r.errors.size(),
                 args[0].c_str());
    return std::nullopt;
  }
  return std::move(r.pack);
}

int run_lint(const std::vector<std::string>& args) {
  auto pack = load_for("lint", args);
  if (!pack) return 2;
  const std::size_t n = pack->rules.size();
  // The full compile catches what per-pattern checks cannot (e.g. a database too large).
  auto compiled = rules::compile_rules(std::move(*pack));
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s: %s [%s]\n", args[0].c_str(), compiled.error().message.c_str(),
                 compiled.error().code.c_str());
    return 2;
  }
  std::printf("%s: %zu rules, no errors\n", args[0].c_str(), n);
  return 0;
}

int run_test(const std::vector<std::string>& args) {
  auto pack = load_for("test", args);
  if (!pack) return 2;
  auto compiled = rules::compile_rules(std::move(*pack));
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s: %s\n", args[0].c_str(), compiled.error().message.c_str());
    return 2;
  }
  auto report = rules::run_pack_examples(*compiled);
  if (!report.ok()) {
    std::fprintf(stderr, "edgeward rules test: %s\n", report.error().message.c_str());
    return 2;
  }
  for (const auto& f : report->failures) {
    std::string quoted = json::quote(f.example);
    std::printf("FAIL rules[%zu] %s (%s): %s example %zu %s: %s\n", f.rule_index,
                f.rule_name.c_str(), f.rule_id.c_str(), f.expected_match ? "match" : "no_match",
                f.example_index, quoted.c_str(), f.detail.c_str());
  }
  std::printf("%s: %zu rules, %zu examples, %zu failed\n", args[0].c_str(), report->rules,
              report->examples, report->failures.size());
  return report->failures.empty() ? 0 : 1;
}

void print_rules(const rules::Pack& pack, bool as_json, const std::string& origin) {
  if (as_json) {
    json::JsonWriter w;
    w.begin_object().field("pack", pack.name).field("source", origin).key("rules").begin_array();
    for (const auto& r : pack.rules) {
      w.begin_object()
          .field("id", r.id)
          .field("name", r.name)
          .field("reason_code", r.reason_code)
          .field("severity", rules::to_string(r.severity))
          .field("action", rules::to_string(r.action))
          .field("priority", r.priority)
          .field("mode", rules::to_string(r.mode))
          .field("kind", rules::to_string(r.kind))
          .end_object();
    }
    w.end_array().end_object();
    std::printf("%s\n", w.str().c_str());
    return;
  }
  std::printf("pack %s (%s), %zu rules\n", pack.name.c_str(), origin.c_str(), pack.rules.size());
  std::printf("%-36s  %-8s  %-8s  %-7s  %-8s  %-36s  %s\n", "ID", "PRIORITY", "SEVERITY", "ACTION",
              "MODE", "REASON CODE", "NAME");
  for (const auto& r : pack.rules) {
    std::printf("%-36s  %-8d  %-8s  %-7s  %-8s  %-36s  %s\n", r.id.c_str(), r.priority,
                std::string(rules::to_string(r.severity)).c_str(),
                std::string(rules::to_string(r.action)).c_str(),
                std::string(rules::to_string(r.mode)).c_str(), r.reason_code.c_str(),
                r.name.c_str());
  }
}

int run_show(const std::vector<std::string>& args) {
  bool active = false, as_json = false;
  std::string state_dir = "/var/lib/edgeward";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--active") {
      active = true;
    } else if (args[i] == "--json") {
      as_json = true;
    } else if (args[i] == "--state-dir" && i + 1 < args.size()) {
      state_dir = args[++i];
    } else {
      std::fprintf(stderr, "edgeward rules show: unknown argument '%s'\n%s", args[i].c_str(),
                   kUsage);
      return 2;
    }
  }
  if (!active) {
    auto pack = rules::parse_pack(rules::default_pack_yaml(), "<embedded>");
    if (!pack.ok()) {
      std::fprintf(stderr, "edgeward rules show: embedded pack: %s\n",
                   pack.error().message.c_str());
      return 2;
    }
    print_rules(*pack, as_json, "embedded default pack");
    return 0;
  }
  const std::filesystem::path db = std::filesystem::path(state_dir) / "edgeward.db";
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) {
    std::fprintf(stderr,
                 "edgeward rules show: no rule store at %s: the gateway has not stored any rule "
                 "blob there yet (a standalone gateway enforces the embedded default pack: see "
                 "'edgeward rules show')\n",
                 db.c_str());
    return 2;
  }
  auto store = store::RuleBlobStore::open(state_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "edgeward rules show: %s\n", store.error().message.c_str());
    return 2;
  }
  auto blob = (*store)->active();
  if (!blob.ok()) {
    std::fprintf(stderr, "edgeward rules show: %s\n", blob.error().message.c_str());
    return 2;
  }
  if (!*blob) {
    std::fprintf(stderr,
                 "edgeward rules show: the store at %s has no active rule blob (the gateway "
                 "enforces the embedded default pack)\n",
                 db.c_str());
    return 2;
  }
  auto decoded = rules::read_blob_unverified((**blob).envelope);
  if (!decoded.ok()) {
    std::fprintf(stderr, "edgeward rules show: active blob: %s\n", decoded.error().message.c_str());
    return 2;
  }
  auto pack = rules::load_blob_pack(decoded->payload.pack_json);
  if (!pack.ok()) {
    std::fprintf(stderr, "edgeward rules show: active blob: %s\n", pack.error().message.c_str());
    return 2;
  }
  print_rules(*pack, as_json,
              "active blob version " + std::to_string(decoded->payload.version) + ", tenant " +
                  decoded->payload.tenant_id);
  return 0;
}

int run_rules(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const std::string& sub = args[0];
  if (sub == "lint") return run_lint(rest);
  if (sub == "test") return run_test(rest);
  if (sub == "show") return run_show(rest);
  if (sub == "keygen") return run_rules_keygen(rest);
  if (sub == "sign") return run_rules_sign(rest);
  if (sub == "verify") return run_rules_verify(rest);
  std::fprintf(stderr, "edgeward rules: unknown command '%s'\n%s", sub.c_str(), kUsage);
  return 2;
}

const CommandRegistration kRegistration{"rules", "lint, test, show, sign and verify rule packs",
                                        run_rules};

}  // namespace

}  // namespace edgeward::cli
