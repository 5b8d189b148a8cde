// bench_scan_calls: what one Scanner::scan call costs on the texts the daemon scans per request
// of bench/proxy (the 16 KiB chat completion of bench/proxy/post.lua), one text at a time, with
// the embedded default pack.
//
//   build-*/bench/scan/bench_scan_calls [--iterations N] [--only NAME] [--pack FILE]
//                                       [--text FILE]
//
// --pack scans with that pack instead of the embedded default (to compare a rewrite of the
// default pack, or the pack without some rules, before and after). --text adds a text named
// "file": that file's bytes scanned as a request body (e.g. prose, to count instructions of
// what bench_scan times).
//
// Prints CPU ns per call for each text (CLOCK_THREAD_CPUTIME_ID: holds on a loaded machine).
// For instruction counts, run one text under callgrind and count only the scan loop:
//
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*scan_repeatedly*'
//       build-*/bench/scan/bench_scan_calls --only header --iterations 1000
//
// (one command line) and divide the instructions by the iterations. Add --instr-atstart=no to
// skip instrumenting the pack's compile (several times faster under callgrind): the tool turns
// instrumentation on itself once the rules are compiled.

#include <time.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define EDGEWARD_CALLGRIND_START() CALLGRIND_START_INSTRUMENTATION
#else
#define EDGEWARD_CALLGRIND_START() ((void)0)
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;

namespace {

// The user message of bench/proxy/post.lua at BODY_BYTES=16384: its words repeated.
std::string ticket_text(std::size_t size) {
  static constexpr const char* kTicket[] = {
      "please",   "summarise", "the",     "following", "ticket", "about", "a",   "slow", "build",
      "pipeline", "and",       "suggest", "next",      "steps",  "for",   "our", "team", "today"};
  std::string out;
  for (std::size_t i = 0; out.size() < size; ++i) {
    out += kTicket[i % (sizeof(kTicket) / sizeof(kTicket[0]))];
    out += ' ';
  }
  out.resize(size);
  return out;
}

struct Text {
  const char* name;
  Scope scope;
  Surface surface;
  std::string text;
};

std::vector<Text> texts() {
  return {
      {"conversation", Scope::request, Surface::body, ticket_text(16384 - 190)},
      {"system", Scope::request, Surface::body,
       "You are a concise assistant for an internal support team."},
      {"url", Scope::request, Surface::url, "/v1/chat/completions"},
      {"header", Scope::request, Surface::headers, "Bearer sk-bench-not-a-real-key"},
      {"content-type", Scope::request, Surface::headers, "application/json"},
      {"host", Scope::request, Surface::headers, "127.0.0.1:8080"},
      {"user-agent", Scope::request, Surface::headers, "OpenAI/JS 4.77.0"},
      {"response", Scope::response, Surface::body,
       R"({"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,)"
       R"("model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant",)"
       R"("content":"Here is a short summary of the ticket and the next steps for the team."},)"
       R"("finish_reason":"stop"}],"usage":{"prompt_tokens":3000,"completion_tokens":20,)"
       R"("total_tokens":3020}})"},
      {"tools", Scope::request, Surface::tools, ticket_text(2048)},
  };
}

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Kept out of line so that callgrind can count exactly this loop (--toggle-collect).
[[gnu::noinline]] std::size_t scan_repeatedly(Scanner& scanner, const CompiledRules& rules,
                                              const Text& t, std::size_t iterations,
                                              std::vector<Finding>& out) {
  std::size_t found = 0;
  for (std::size_t i = 0; i < iterations; ++i) {
    out.clear();
    if (!scanner.scan(rules, t.scope, t.surface, Layer::pre_template, t.text, out).ok()) return 0;
    found += out.size();
  }
  return found;
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  out = buf.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t iterations = 20000;
  std::string only;
  std::string pack_file;
  std::string text_file;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0) {
      iterations = std::strtoul(argv[i + 1], nullptr, 10);
    }
    if (std::strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    if (std::strcmp(argv[i], "--pack") == 0) pack_file = argv[i + 1];
    if (std::strcmp(argv[i], "--text") == 0) text_file = argv[i + 1];
  }
  std::string pack_text(default_pack_yaml());
  if (!pack_file.empty() && !read_file(pack_file, pack_text)) return 2;
  std::vector<Text> inputs = texts();
  if (!text_file.empty()) {
    inputs.push_back({"file", Scope::request, Surface::body, {}});
    if (!read_file(text_file, inputs.back().text)) return 2;
  }
  auto pack = parse_pack(pack_text, pack_file.empty() ? "<default pack>" : pack_file);
  if (!pack.ok()) {
    std::fprintf(stderr, "pack: %s\n", pack.error().message.c_str());
    return 2;
  }
  auto rules = compile_rules(std::move(*pack));
  if (!rules.ok()) {
    std::fprintf(stderr, "compile: %s\n", rules.error().message.c_str());
    return 2;
  }
  // A no-op outside callgrind; under `--instr-atstart=no` the compile above ran uninstrumented.
  EDGEWARD_CALLGRIND_START();
  Scanner scanner;
  std::vector<Finding> out;
  std::printf("%-14s %8s %10s %12s %8s\n", "text", "bytes", "findings", "ns/call", "MB/s");
  for (const Text& t : inputs) {
    if (!only.empty() && only != t.name) continue;
    scan_repeatedly(scanner, **rules, t, 10, out);  // warm up: scratch, caches
    const double t0 = thread_cpu_ns();
    const std::size_t found = scan_repeatedly(scanner, **rules, t, iterations, out);
    const double ns = (thread_cpu_ns() - t0) / static_cast<double>(iterations);
    std::printf("%-14s %8zu %10zu %12.1f %8.0f\n", t.name, t.text.size(), found / iterations, ns,
                static_cast<double>(t.text.size()) / ns * 1e3);
  }
  return 0;
}
