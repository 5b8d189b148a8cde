#include "daemon/inspect/stream_framing.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace edgeward::inspect;

namespace {
std::vector<SseEvent> feed_all(std::string_view text, std::size_t step) {
  SseParser p;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < text.size(); i += step) {
    REQUIRE(p.feed(text.substr(i, step), out).ok());
  }
  REQUIRE(p.finish(out).ok());
  return out;
}
}  // namespace

TEST_CASE("sse: events split across chunks at every byte are parsed identically") {
  std::string text =
      "event: message_start\ndata: {\"a\":1}\n\n: ping\n\ndata: line1\ndata: line2\r\n\r\n"
      "data:nospace\rid: 7\r\r";
  for (std::size_t step : {1, 2, 3, 5, 64}) {
    INFO(step);
    auto ev = feed_all(text, step);
    REQUIRE(ev.size() == 4);
    CHECK(ev[0].event == "message_start");
    CHECK(ev[0].data == "{\"a\":1}");
    CHECK(ev[0].raw == "event: message_start\ndata: {\"a\":1}\n\n");
    CHECK_FALSE(ev[1].has_data);
    CHECK(ev[1].raw == ": ping\n\n");
    CHECK(ev[2].data == "line1\nline2");
    CHECK(ev[2].raw == "data: line1\ndata: line2\r\n\r\n");
    CHECK(ev[3].data == "nospace");
    CHECK(ev[3].raw == "data:nospace\rid: 7\r\r");
  }
}

TEST_CASE("sse: the raw bytes of all events rebuild the stream exactly") {
  std::string text =
      "\xEF\xBB\xBF"
      "data: a\n\ndata: b\r\n\r\ndata: tail";
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    SseParser p;
    std::vector<SseEvent> out;
    std::size_t i = 0;
    while (i < text.size()) {
      std::size_t n = 1 + rng() % 6;
      REQUIRE(p.feed(std::string_view(text).substr(i, n), out).ok());
      i += n;
    }
    REQUIRE(p.finish(out).ok());
    std::string joined;
    for (auto& e : out) joined += e.raw;
    CHECK(joined == text);
    REQUIRE(out.size() == 3);
    CHECK(out[0].data == "a");
    CHECK(out[2].data == "tail");
  }
}

TEST_CASE("sse: a CR at the end of a chunk waits for a following LF") {
  SseParser p;
  std::vector<SseEvent> out;
  REQUIRE(p.feed("data: x\r", out).ok());
  REQUIRE(p.feed("\n\r", out).ok());
  CHECK(out.empty());
  REQUIRE(p.feed("\n", out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].raw == "data: x\r\n\r\n");
}

TEST_CASE("sse: an event larger than the bound is an error") {
  SseParser p(64);
  std::vector<SseEvent> out;
  auto st = p.feed("data: " + std::string(100, 'a'), out);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == "inspect.stream_event_too_large");
}

TEST_CASE("ndjson: lines split across chunks, CRLF and a final unterminated line") {
  NdjsonSplitter s;
  std::vector<NdjsonLine> out;
  REQUIRE(s.feed("{\"a\":", out).ok());
  REQUIRE(s.feed("1}\r\n{\"b\"", out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].text == "{\"a\":1}");
  CHECK(out[0].raw == "{\"a\":1}\r\n");
  s.finish(out);
  REQUIRE(out.size() == 2);
  CHECK(out[1].raw == "{\"b\"");
}

TEST_CASE("ndjson: a line larger than the bound is an error") {
  NdjsonSplitter s(8);
  std::vector<NdjsonLine> out;
  CHECK_FALSE(s.feed("0123456789", out).ok());
}
