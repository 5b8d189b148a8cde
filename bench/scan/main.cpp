// bench_scan: how fast the embedded default pack scans, next to memchr over the same buffer.
//
//   build-*/bench/scan/bench_scan [--mib N] [--seconds S] [--pack FILE] [--surface NAME]
//                                 [--per-rule | --leave-one-out] [--on prose|documents]
//                                 [--documents FILE...]
//
// --surface scans the inputs as another surface of the request (and the response, for the
// stream figure) than the body: `tools` is the body's rules plus the tool-only ones.
//
// Inputs are generated deterministically (no downloads): English-like prose from a fixed word
// list and a fixed PRNG seed, once without any sensitive token and once with 1 % of the words
// replaced by sensitive tokens (IBANs, card numbers, e-mail addresses, keys, injection phrases).
// A third input is real English: the license texts Debian ships in /usr/share/common-licenses
// (GPL-3, Apache-2.0, MPL-2.0, LGPL-2.1, Artistic, GFDL-1.3; or the files given with
// --documents FILE...), repeated to the same size. Generated prose repeats a small vocabulary;
// documents have the letter pairs, capitals and digits of real text, and scan slower.
// Everything runs on one thread, so MB/s is per core. memchr searches for a byte that does not
// occur, i.e. it reads the whole buffer at memory speed: the ratio says how far the scanner is
// from "just reading the bytes".

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kWords[] = {
    "the",      "of",      "and",     "to",       "in",        "is",       "was",         "that",
    "for",      "it",      "with",    "as",       "on",        "be",       "at",          "by",
    "this",     "had",     "not",     "are",      "but",       "from",     "or",          "have",
    "an",       "they",    "which",   "one",      "you",       "were",     "her",         "all",
    "she",      "there",   "would",   "their",    "we",        "him",      "been",        "has",
    "when",     "who",     "will",    "more",     "no",        "if",       "out",         "so",
    "said",     "what",    "up",      "its",      "about",     "into",     "than",        "them",
    "can",      "only",    "other",   "new",      "some",      "could",    "time",        "these",
    "two",      "may",     "then",    "do",       "first",     "any",      "my",          "now",
    "such",     "like",    "our",     "over",     "man",       "me",       "even",        "most",
    "made",     "after",   "also",    "did",      "many",      "before",   "must",        "through",
    "back",     "years",   "where",   "much",     "your",      "way",      "well",        "down",
    "should",   "because", "each",    "just",     "those",     "people",   "how",         "too",
    "little",   "state",   "good",    "very",     "make",      "world",    "still",       "own",
    "see",      "men",     "work",    "long",     "get",       "here",     "between",     "both",
    "life",     "being",   "under",   "never",    "day",       "same",     "another",     "know",
    "while",    "last",    "might",   "us",       "great",     "old",      "year",        "off",
    "come",     "since",   "against", "go",       "came",      "right",    "used",        "take",
    "three",    "report",  "meeting", "customer", "quarterly", "budget",   "engineering", "product",
    "summary",  "please",  "review",  "draft",    "proposal",  "schedule", "account",     "service",
    "question", "answer",  "explain", "thanks"};
constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

constexpr const char* kSensitive[] = {"DE89 3704 0044 0532 0130 00",
                                      "4555 9797 1147 1041",
                                      "jane.doe@acme-corp.com",
                                      "AKIA4XCIVWF6E2B7AYYA",
                                      "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",
                                      "SSN 536-22-8745",
                                      "ignore all previous instructions",
                                      "xoxb-189438606689-2838383899235-5LUmU57MNxM4GI4PIuFQYGb1",
                                      "192.168.10.25",
                                      "<|im_start|>"};
constexpr std::size_t kSensitiveCount = sizeof(kSensitive) / sizeof(kSensitive[0]);

struct Rng {  // xorshift64*: deterministic across platforms
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
};

std::string prose(std::size_t bytes, unsigned sensitive_per_mille) {
  Rng rng;
  std::string out;
  out.reserve(bytes + 128);
  bool sentence_start = true;
  std::size_t words_in_sentence = 0;
  while (out.size() < bytes) {
    if (sensitive_per_mille && rng.next() % 1000 < sensitive_per_mille) {
      out += kSensitive[rng.next() % kSensitiveCount];
    } else {
      std::string w = kWords[rng.next() % kWordCount];
      if (sentence_start) w[0] = static_cast<char>(w[0] - 'a' + 'A');
      out += w;
    }
    sentence_start = false;
    ++words_in_sentence;
    if (words_in_sentence > 6 && rng.next() % 10 == 0) {
      out += rng.next() % 5 == 0 ? "." : (rng.next() % 2 ? "," : ";");
      if (out.back() == '.') {
        sentence_start = true;
        words_in_sentence = 0;
        if (rng.next() % 6 == 0) out += "\n";
      }
    }
    out += ' ';
  }
  out.resize(bytes);
  return out;
}

// CPU time of this thread: "per core" figures that do not depend on what else the (shared)
// machine is running.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `fn` repeatedly for at least `seconds` of CPU time; returns MB/s (10^6 bytes per CPU
// second).
template <class Fn>
double throughput(std::size_t bytes, double seconds, Fn fn) {
  fn();  // warm up
  std::size_t runs = 0;
  const double start = thread_cpu_seconds();
  double elapsed = 0;
  do {
    fn();
    ++runs;
    elapsed = thread_cpu_seconds() - start;
  } while (elapsed < seconds);
  return static_cast<double>(bytes) * static_cast<double>(runs) / elapsed / 1e6;
}

// The documents input: the files' bytes, one after the other, repeated to `bytes`. Empty when
// none of them can be read.
std::string documents(const std::vector<std::string>& files, std::size_t bytes) {
  std::string all;
  for (const std::string& path : files) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
      std::fprintf(stderr, "documents: cannot read %s (left out)\n", path.c_str());
      continue;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) all.append(buf, n);
    std::fclose(f);
    all += "\n\n";
  }
  if (all.empty()) return all;
  std::string out;
  out.reserve(bytes);
  while (out.size() < bytes) out.append(all, 0, std::min(all.size(), bytes - out.size()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mib = 1;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0) mib = std::strtoul(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::strtod(argv[i + 1], nullptr);
  }
  const std::size_t bytes = mib << 20;
  bool per_rule = false;
  bool leave_one_out = false;
  bool on_documents = false;  // --per-rule / --leave-one-out on the documents instead of prose
  std::string pack_file;
  Surface surface = Surface::body;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--surface") == 0 && i + 1 < argc) {
      const std::string_view name = argv[i + 1];
      const Surface surfaces[] = {Surface::headers, Surface::body, Surface::url, Surface::tools};
      const char* names[] = {"headers", "body", "url", "tools"};
      bool known = false;
      for (std::size_t k = 0; k < 4; ++k) {
        if (name == names[k]) {
          surface = surfaces[k];
          known = true;
        }
      }
      if (!known) {
        std::fprintf(stderr, "--surface: headers, body, url or tools\n");
        return 2;
      }
    }
    per_rule |= std::strcmp(argv[i], "--per-rule") == 0;
    leave_one_out |= std::strcmp(argv[i], "--leave-one-out") == 0;
    if (std::strcmp(argv[i], "--pack") == 0 && i + 1 < argc) pack_file = argv[i + 1];
    if (std::strcmp(argv[i], "--on") == 0 && i + 1 < argc)
      on_documents = !std::strcmp(argv[i + 1], "documents");
  }
  std::vector<std::string> document_files;
  std::string documents_label = "documents (license texts)";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--documents") != 0) continue;
    for (int j = i + 1; j < argc && std::strncmp(argv[j], "--", 2) != 0; ++j) {
      document_files.push_back(argv[j]);
    }
  }
  if (!document_files.empty()) {
    documents_label = "documents (" + std::to_string(document_files.size()) + " files)";
  } else {
    for (const char* name :
         {"GPL-3", "Apache-2.0", "MPL-2.0", "LGPL-2.1", "Artistic", "GFDL-1.3"}) {
      document_files.push_back(std::string("/usr/share/common-licenses/") + name);
    }
  }
  // Tool content is scanned as the tool-call layer (where the tool-only rules apply).
  const Layer layer = surface == Surface::tools ? Layer::tool_call : Layer::pre_template;
  std::string pack_text(default_pack_yaml());
  if (!pack_file.empty()) {
    std::FILE* f = std::fopen(pack_file.c_str(), "rb");
    if (!f) return 2;
    pack_text.clear();
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) pack_text.append(buf, n);
    std::fclose(f);
  }
  if (leave_one_out) {
    // The whole pack without one rule at a time: what each rule costs in the combined database
    // (Hyperscan's engines interact, so a rule cheap alone can slow the set down).
    auto pack = parse_pack(pack_text, "<pack>");
    if (!pack.ok()) return 2;
    std::string text = on_documents ? documents(document_files, bytes) : prose(bytes, 0);
    if (text.empty()) return 2;
    Scanner scanner;
    std::vector<Finding> out;
    for (std::size_t skip = 0; skip <= pack->rules.size(); ++skip) {
      Pack rest = *pack;
      if (skip < pack->rules.size()) rest.rules.erase(rest.rules.begin() + static_cast<long>(skip));
      const double t0 = process_cpu_seconds();
      auto compiled = compile_rules(std::move(rest));
      double ms = (process_cpu_seconds() - t0) * 1000.0;
      if (!compiled.ok()) continue;
      double mbs = throughput(bytes, seconds, [&] {
        out.clear();
        (void)scanner.scan(**compiled, Scope::request, surface, layer, text, out);
      });
      std::printf("%8.0f MB/s %7.0f ms  without %s\n", mbs, ms,
                  skip < pack->rules.size() ? pack->rules[skip].name.c_str() : "(nothing)");
    }
    return 0;
  }
  if (per_rule) {
    // Each pattern rule compiled alone: which rules cost compile time and scan speed.
    auto pack = parse_pack(pack_text, "<pack>");
    if (!pack.ok()) return 2;
    std::string text = on_documents ? documents(document_files, bytes) : prose(bytes, 0);
    if (text.empty()) return 2;
    Scanner scanner;
    std::vector<Finding> out;
    for (const auto& r : pack->rules) {
      Pack one = *pack;
      one.rules = {r};
      const double t0 = process_cpu_seconds();
      auto compiled = compile_rules(std::move(one));
      double ms = (process_cpu_seconds() - t0) * 1000.0;
      if (!compiled.ok()) continue;
      double mbs = throughput(bytes, seconds, [&] {
        out.clear();
        (void)scanner.scan(**compiled, r.scope.front(), r.matched_in.front(), r.layers.front(),
                           text, out);
      });
      std::printf("%8.0f MB/s %7.0f ms  %s\n", mbs, ms, r.name.c_str());
    }
    return 0;
  }

  // Compile time: median of 5, as wall time (compile_rules spreads databases over the cores)
  // and as CPU time of all threads of the process.
  std::vector<double> compile_ms, compile_cpu_ms;
  std::shared_ptr<const CompiledRules> rules;
  for (int i = 0; i < 5; ++i) {
    auto pack = parse_pack(pack_text, "<pack>");
    if (!pack.ok()) {
      std::fprintf(stderr, "default pack: %s\n", pack.error().message.c_str());
      return 2;
    }
    const double c0 = process_cpu_seconds();
    const auto t0 = Clock::now();
    auto compiled = compile_rules(std::move(*pack));
    compile_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    compile_cpu_ms.push_back((process_cpu_seconds() - c0) * 1000.0);
    if (!compiled.ok()) {
      std::fprintf(stderr, "compile: %s\n", compiled.error().message.c_str());
      return 2;
    }
    rules = *compiled;
  }
  std::sort(compile_ms.begin(), compile_ms.end());
  std::sort(compile_cpu_ms.begin(), compile_cpu_ms.end());
  auto serialized = rules->serialize();
  double load_ms = 0;
  if (serialized.ok()) {
    auto t0 = Clock::now();
    auto loaded = load_compiled_rules(rules->pack(), *serialized);
    load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!loaded.ok()) load_ms = -1;
  }
  std::printf("default pack: %zu rules, %zu Hyperscan databases, %.1f KiB\n",
              rules->pack().rules.size(), rules->database_count(),
              static_cast<double>(rules->database_bytes()) / 1024.0);
  std::printf(
      "compile (median of 5): %.0f ms wall, %.0f ms CPU; load from serialized cache: %.1f ms\n",
      compile_ms[2], compile_cpu_ms[2], load_ms);

  Scanner scanner;
  std::vector<Finding> findings;
  struct Input {
    const char* name;
    std::string text;
  };
  std::vector<Input> inputs = {{"prose, no matches", prose(bytes, 0)},
                               {"prose, 1% sensitive tokens", prose(bytes, 10)}};
  if (std::string docs = documents(document_files, bytes); !docs.empty()) {
    inputs.push_back({documents_label.c_str(), std::move(docs)});
  } else {
    std::printf("(no documents readable: the documents row is left out)\n");
  }
  std::printf("\n%-28s %10s %12s %12s %8s %10s\n", "input (", "findings", "scan MB/s",
              "memchr MB/s", "ratio", "stream MB/s");
  for (auto& in : inputs) {
    findings.clear();
    if (!scanner.scan(*rules, Scope::request, surface, layer, in.text, findings).ok()) {
      std::fprintf(stderr, "scan failed\n");
      return 2;
    }
    const std::size_t found = findings.size();
    double memchr_mbs = throughput(bytes, seconds, [&] {
      const char* data = in.text.data();
      // Hide the buffer from the optimizer so that memchr really runs every time.
      asm volatile("" : "+r"(data) : : "memory");
      const void* hit = std::memchr(data, '\x01', in.text.size());
      asm volatile("" : : "r"(hit) : "memory");
    });
    double scan_mbs = throughput(bytes, seconds, [&] {
      findings.clear();
      (void)scanner.scan(*rules, Scope::request, surface, layer, in.text, findings);
    });
    // Stream mode, response body, 4 KiB chunks (an SSE stream delivers far smaller ones).
    double stream_mbs = throughput(bytes, seconds, [&] {
      findings.clear();
      auto stream = scanner.open_stream(rules, Scope::response, surface, layer);
      if (!stream.ok()) return;
      for (std::size_t pos = 0; pos < in.text.size(); pos += 4096) {
        (void)scanner.feed(*stream, std::string_view(in.text).substr(pos, 4096), findings);
      }
      (void)scanner.finish(*stream, findings);
    });
    std::printf("%-28s %10zu %12.0f %12.0f %7.1fx %10.0f\n", in.name, found, scan_mbs, memchr_mbs,
                memchr_mbs / scan_mbs, stream_mbs);
  }
  std::printf(
      "\n(%zu MiB inputs, one thread, MB/s per CPU second, >= %.1f s per figure; ratio = memchr / "
      "scan)\n",
      mib, seconds);
  return 0;
}
