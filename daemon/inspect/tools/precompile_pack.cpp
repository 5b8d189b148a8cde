// edgeward-precompile-pack: compiles the embedded default pack at build time and writes its
// serialized Hyperscan databases (CompiledRules::serialize) to a file that edgeward_inspect
// embeds. At start the daemon loads them instead of compiling (seconds on a busy host); a host
// whose CPU or Hyperscan differs gets "rules.cache_incompatible" and compiles as before.
//
// Usage: edgeward-precompile-pack OUTPUT

#include <cstdio>
#include <fstream>

#include "rules/engine.hpp"
#include "rules/pack.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: edgeward-precompile-pack OUTPUT\n");
    return 2;
  }
  auto pack = edgeward::rules::parse_pack(edgeward::rules::default_pack_yaml(), "<embedded>");
  if (!pack.ok()) {
    std::fprintf(stderr, "default pack: %s\n", pack.error().message.c_str());
    return 1;
  }
  auto compiled = edgeward::rules::compile_rules(std::move(*pack));
  if (!compiled.ok()) {
    std::fprintf(stderr, "default pack: %s\n", compiled.error().message.c_str());
    return 1;
  }
  auto bytes = (*compiled)->serialize();
  if (!bytes.ok()) {
    std::fprintf(stderr, "default pack: %s\n", bytes.error().message.c_str());
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
