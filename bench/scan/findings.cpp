// bench_scan_findings: every finding a pack reports on a set of texts, in every scope, surface
// and layer, in block mode and (response scope) in stream mode with several chunkings, as
// canonical lines. An engine change that must not change any finding is checked by running this
// before and after it and comparing the outputs (diff, or the digest on the last line).
//
//   build-*/bench/scan/bench_scan_findings [--pack FILE] TEXTS.jsonl... > findings.txt
//
// Inputs are JSON lines with a "text" field (bench/detection/generate.py writes them). Output:
// one line per text and (scope, surface, layer) with findings:
//   <file>:<line> <scope>/<surface>/<layer> rule@start-end[+ctx]:action ...
// then `texts N scans N findings N digest HEX`. Stream mode must find exactly what block mode
// finds (scanner.hpp); a text where it does not is printed as `STREAM MISMATCH` and the exit
// status is 1.

#include <simdjson.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;

namespace {

constexpr const char* kScopeNames[] = {"request", "response"};
constexpr const char* kSurfaceNames[] = {"headers", "body", "url", "tools"};
constexpr const char* kLayerNames[] = {"pre", "post", "tool"};
constexpr const char* kActionNames[] = {"block", "redact", "monitor"};
// Stream chunkings: a byte at a time is the hardest case for the hold-back; 7 and 64 split
// matches at arbitrary points.
constexpr std::size_t kChunks[] = {1, 7, 64};

std::string render(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) {
    out += ' ';
    out +=
        std::to_string(f.rule_index) + "@" + std::to_string(f.start) + "-" + std::to_string(f.end);
    if (f.context_matched) out += "+ctx";
    out += ':';
    out += kActionNames[static_cast<int>(f.action)];
  }
  return out;
}

// FNV-1a over the output: one number to compare two runs by.
std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

bool read_file(const char* path, std::string& out) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pack_text(default_pack_yaml());
  std::vector<const char*> inputs;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--pack") == 0 && i + 1 < argc) {
      pack_text.clear();
      if (!read_file(argv[++i], pack_text)) {
        std::fprintf(stderr, "cannot read %s\n", argv[i]);
        return 2;
      }
      continue;
    }
    inputs.push_back(argv[i]);
  }
  auto pack = parse_pack(pack_text, "<pack>");
  if (!pack.ok()) {
    std::fprintf(stderr, "pack: %s\n", pack.error().message.c_str());
    return 2;
  }
  auto compiled = compile_rules(std::move(*pack));
  if (!compiled.ok()) {
    std::fprintf(stderr, "compile: %s\n", compiled.error().message.c_str());
    return 2;
  }
  const std::shared_ptr<const CompiledRules> rules = *compiled;
  Scanner scanner;
  std::vector<Finding> block, stream;
  std::uint64_t digest = 14695981039346656037ull;
  std::size_t texts = 0, scans = 0, found = 0;
  int status = 0;
  simdjson::ondemand::parser parser;
  for (const char* path : inputs) {
    std::string data;
    if (!read_file(path, data)) {
      std::fprintf(stderr, "cannot read %s\n", path);
      return 2;
    }
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < data.size();) {
      std::size_t eol = data.find('\n', pos);
      if (eol == std::string::npos) eol = data.size();
      const std::string line = data.substr(pos, eol - pos);
      pos = eol + 1;
      ++line_no;
      if (line.empty()) continue;
      simdjson::padded_string padded(line);
      std::string_view text;
      auto doc = parser.iterate(padded);
      if (doc.error() || doc["text"].get_string().get(text)) {
        std::fprintf(stderr, "%s:%zu: no \"text\" string\n", path, line_no);
        return 2;
      }
      const std::string owned(text);  // the parser's buffer is reused by the next line
      ++texts;
      for (int s = 0; s < kScopeCount; ++s) {
        for (int f = 0; f < kSurfaceCount; ++f) {
          for (int l = 0; l < kLayerCount; ++l) {
            const auto scope = static_cast<Scope>(s);
            const auto surface = static_cast<Surface>(f);
            const auto layer = static_cast<Layer>(l);
            block.clear();
            ++scans;
            if (!scanner.scan(*rules, scope, surface, layer, owned, block).ok()) {
              std::fprintf(stderr, "%s:%zu: scan failed\n", path, line_no);
              return 2;
            }
            const std::string rendered = render(block);
            if (!block.empty()) {
              found += block.size();
              std::string out = std::string(path) + ":" + std::to_string(line_no) + " " +
                                kScopeNames[s] + "/" + kSurfaceNames[f] + "/" + kLayerNames[l] +
                                rendered + "\n";
              digest = fnv(digest, out);
              std::fputs(out.c_str(), stdout);
            }
            if (scope != Scope::response) continue;
            for (std::size_t chunk : kChunks) {
              stream.clear();
              auto st = scanner.open_stream(rules, scope, surface, layer);
              bool ok = st.ok();
              for (std::size_t at = 0; ok && at < owned.size(); at += chunk) {
                ok = scanner.feed(*st, std::string_view(owned).substr(at, chunk), stream).ok();
              }
              ok = ok && scanner.finish(*st, stream).ok();
              // Stream mode reports findings as they become final: compare as block mode sorts.
              std::stable_sort(stream.begin(), stream.end(),
                               [](const Finding& a, const Finding& b) {
                                 if (a.priority != b.priority) return a.priority < b.priority;
                                 if (a.start != b.start) return a.start < b.start;
                                 return a.rule_index < b.rule_index;
                               });
              if (!ok || render(stream) != rendered) {
                std::printf("STREAM MISMATCH %s:%zu %s/%s/%s chunk %zu:%s vs%s\n", path, line_no,
                            kScopeNames[s], kSurfaceNames[f], kLayerNames[l], chunk,
                            render(stream).c_str(), rendered.c_str());
                status = 1;
              }
            }
          }
        }
      }
    }
  }
  std::printf("texts %zu scans %zu findings %zu digest %016llx\n", texts, scans, found,
              static_cast<unsigned long long>(digest));
  return status;
}
