// How much of a streamed answer the response inspector holds back (docs/benchmarks.md).
//
//   build-*/bench/scan/bench_holdback [--pack FILE] [--holdback N] [--rounds R]
//
// Streams a realistic English answer (prose, a list, a code block, numbers, a URL) through the
// default pack in deltas of 5-20 bytes (R random chunkings, fixed seeds) and prints, averaged
// over every delta: the bytes the scanner holds (bytes_seen - stable_offset) and the bytes the
// daemon holds, which releases max(stable_offset, bytes_seen - holdback) as
// daemon/inspect/stream_inspector.cpp does (holdback: streaming.holdback_bytes, 128 by default);
// and the CPU time per delta of the streaming loop (the pack compile excluded).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

using namespace edgeward::rules;

namespace {

constexpr std::string_view kAnswer =
    "Sure! Here is a short overview of how to rotate the credentials of a small web service "
    "without downtime.\n\n"
    "1. **Create the new secret first.** Generate it in your secrets manager, give it a clear "
    "name such as `payments-api-2024-06`, and keep the old one active for now.\n"
    "2. **Deploy the configuration change.** Most teams roll this out to 10% of the instances, "
    "watch the error rate for about 15 minutes, and then continue to 100%.\n"
    "3. **Revoke the old secret** once the logs show no requests signed with it for 24 hours.\n\n"
    "A minimal example in Python:\n\n"
    "```python\n"
    "import os\n"
    "import requests\n\n"
    "def fetch_invoices(customer_id: int) -> list[dict]:\n"
    "    token = os.environ[\"PAYMENTS_TOKEN\"]\n"
    "    response = requests.get(\n"
    "        f\"https://api.example.com/v2/customers/{customer_id}/invoices\",\n"
    "        headers={\"Authorization\": f\"Bearer {token}\"},\n"
    "        timeout=10,\n"
    "    )\n"
    "    response.raise_for_status()\n"
    "    return response.json()[\"data\"]\n"
    "```\n\n"
    "A few things to keep in mind:\n\n"
    "- Never commit the token to the repository; read it from the environment as above.\n"
    "- If you use Kubernetes, mount the secret as a file and reload it on change, so that a "
    "rotation does not need a restart.\n"
    "- The documentation at https://docs.example.com/security/rotation explains the audit "
    "trail, which records who rotated which key and when (for example on 2024-06-12 at 09:30 "
    "UTC).\n\n"
    "In short: create, deploy, verify, revoke. With two keys valid at the same time, the whole "
    "process takes under an hour and your users will not notice a thing. Let me know if you "
    "want the same steps for Go or Node.js!\n";

}  // namespace

int main(int argc, char** argv) {
  std::string pack_file;
  std::uint64_t holdback = 128;
  int rounds = 200;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--pack") == 0) pack_file = argv[i + 1];
    if (std::strcmp(argv[i], "--holdback") == 0) holdback = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  std::string yaml(default_pack_yaml());
  if (!pack_file.empty()) {
    std::ifstream in(pack_file);
    std::stringstream ss;
    ss << in.rdbuf();
    yaml = ss.str();
  }
  auto pack = parse_pack(yaml, pack_file.empty() ? "<embedded>" : pack_file);
  if (!pack.ok()) {
    std::fprintf(stderr, "pack: %s\n", pack.error().message.c_str());
    return 1;
  }
  auto compiled = compile_rules(std::move(*pack), {});
  if (!compiled.ok()) {
    std::fprintf(stderr, "compile: %s\n", compiled.error().message.c_str());
    return 1;
  }
  Scanner scanner;
  double scanner_hold = 0, daemon_hold = 0;
  const std::clock_t cpu_start = std::clock();
  std::uint64_t deltas = 0, findings = 0;
  for (int round = 0; round < rounds; ++round) {
    std::mt19937 rng(static_cast<unsigned>(round) + 1);
    auto stream =
        scanner.open_stream(*compiled, Scope::response, Surface::body, Layer::pre_template);
    if (!stream.ok()) {
      std::fprintf(stderr, "open_stream: %s\n", stream.error().message.c_str());
      return 1;
    }
    std::vector<Finding> out;
    std::uint64_t released = 0;
    for (std::size_t pos = 0; pos < kAnswer.size();) {
      const std::size_t n = std::min<std::size_t>(5 + rng() % 16, kAnswer.size() - pos);
      if (!scanner.feed(*stream, kAnswer.substr(pos, n), out).ok()) {
        std::fprintf(stderr, "feed failed\n");
        return 1;
      }
      pos += n;
      const std::uint64_t seen = stream->bytes_seen();
      const std::uint64_t cap = seen > holdback ? seen - holdback : 0;
      released = std::max({released, stream->stable_offset(), cap});
      scanner_hold += static_cast<double>(seen - stream->stable_offset());
      daemon_hold += static_cast<double>(seen - released);
      ++deltas;
    }
    if (!scanner.finish(*stream, out).ok()) return 1;
    findings += out.size();
  }
  const double cpu_ns = static_cast<double>(std::clock() - cpu_start) * 1e9 / CLOCKS_PER_SEC;
  std::printf("answer: %zu bytes, %d chunkings of 5-20 byte deltas, %llu deltas, %.1f findings\n",
              kAnswer.size(), rounds, static_cast<unsigned long long>(deltas),
              static_cast<double>(findings) / rounds);
  std::printf(
      "held back per delta: scanner (seen - stable_offset) %.1f bytes, daemon "
      "(holdback %llu) %.1f bytes\n",
      scanner_hold / static_cast<double>(deltas), static_cast<unsigned long long>(holdback),
      daemon_hold / static_cast<double>(deltas));
  std::printf("CPU per delta (feed, stable offset): %.0f ns\n",
              cpu_ns / static_cast<double>(deltas));
  return 0;
}
