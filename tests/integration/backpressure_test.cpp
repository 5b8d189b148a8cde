// Request-body backpressure through the real edgewardd: an upstream that stops reading makes
// the gateway stop reading its client (high watermark), and reading resumes when the upstream
// does (low watermark), with every byte delivered. The response direction is pinned in
// gateway_test.cpp ("a client that does not read a large response …").
#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/harness.hpp"
#include "tests/integration/raw_upstream.hpp"

using namespace edgeward::testing;
using namespace std::chrono_literals;

namespace {

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

}  // namespace

TEST_CASE("an upstream that stops reading the request body stops the gateway reading the client",
          "[integration][backpressure]") {
  TempDir rules;
  // Uninspected (rules unavailable, fail_mode open), so the body streams instead of being
  // buffered whole for inspection; a small upstream receive buffer fills at once.
  RawGateway g(rules_unavailable_yaml(rules) + "limits: { max_request_body: 1GiB }\n", false,
               16 * 1024);
  REQUIRE(g.ready());
  g.upstream.pause_reading(true);

  constexpr std::size_t kTotal = 48u << 20;  // far more than every socket buffer on the way
  constexpr std::size_t kChunk = 64u << 10;
  std::string payload(kTotal, 'x');
  for (std::size_t i = 0; i < kTotal; i += 4093) payload[i] = static_cast<char>('a' + i % 26);

  ClientSocket c(g.port);
  REQUIRE(c.ok());
  std::atomic<std::size_t> sent{0};
  std::atomic<bool> send_ok{true};
  std::thread sender([&] {
    send_ok = c.send(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        "Transfer-Encoding: chunked\r\n\r\n");
    char line[32];
    for (std::size_t off = 0; off < kTotal && send_ok; off += kChunk) {
      std::snprintf(line, sizeof line, "%zx\r\n", kChunk);
      send_ok =
          c.send(line) && c.send(std::string_view(payload).substr(off, kChunk)) && c.send("\r\n");
      sent = off + kChunk;
    }
    if (send_ok) send_ok = c.send("0\r\n\r\n");
  });

  const long rss_before = rss_kib(g.edgewardd().pid());
  std::this_thread::sleep_for(1500ms);
  const double read_by_gateway = g.metric("edgeward_http_request_body_bytes_total");
  const long rss_stalled = rss_kib(g.edgewardd().pid());
  INFO("client sent " << sent.load() << " bytes; the gateway read " << read_by_gateway << "; RSS "
                      << rss_before << " -> " << rss_stalled << " KiB");
  // The client is blocked well before the end of its body…
  CHECK(sent.load() < kTotal / 2);
  // … and the gateway holds at most its high watermark (256 KiB) and a read (64 KiB) beyond what
  // the kernel buffers of the upstream connection took (a few MiB on loopback).
  CHECK(read_by_gateway >= 0);
  CHECK(read_by_gateway < 8.0 * (1 << 20));
  CHECK(rss_stalled - rss_before < 8 * 1024);

  // The upstream reads again: the gateway resumes reading, and every byte arrives in order.
  g.upstream.pause_reading(false);
  std::string r = c.read_response(120s);
  sender.join();
  CHECK(send_ok.load());
  REQUIRE(status_of(r) == 200);
  REQUIRE(g.upstream.wait_requests(1, 5s));
  const RawRequest got = g.upstream.requests()[0];
  const bool chunked = got.head.find("Transfer-Encoding: chunked") != std::string::npos;
  CHECK(chunked);
  const std::string body = chunked ? dechunk(got.body) : got.body;
  CHECK(body.size() == kTotal);
  CHECK(body == payload);
  CHECK(g.edgewardd().running());
}
