// Byte-exact forwarding through the real edgewardd (issue 4, point 5), with an upstream that
// records the raw bytes it receives and sends raw bytes chosen by the test (raw_upstream.hpp).
//
// Two deployments: the embedded default pack active (every request and response inspected,
// nothing matching), and rules unavailable with fail_mode open (forwarded uninspected). In
// both, what the upstream receives is what the client sent, and what the client receives is
// what the upstream sent, except for the rewrites documented in docs/configuration.md
// ("Upstreams and routing"):
//   request:  hop-by-hop fields (Connection, Keep-Alive, Proxy-*, TE, Trailer,
//             Transfer-Encoding, Upgrade, and every field named in Connection) and Expect
//             removed; Host set to the upstream's; framing (Content-Length or chunked) chosen
//             by the gateway for the same body bytes.
//   response: hop-by-hop fields removed; Server-Timing added; framing chosen by the gateway.
// Header order, names, values, the request line, the status line and every body byte are
// compared exactly.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <thread>
#include <utility>

#include "tests/integration/harness.hpp"
#include "tests/integration/raw_upstream.hpp"

using namespace edgeward::testing;
using namespace std::chrono_literals;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct ParsedHead {
  std::string start_line;
  Fields fields;
};

// Splits a raw head ("line\r\nName: value\r\n…\r\n\r\n") without normalising anything but the
// single space after the colon, which every head in this file uses.
ParsedHead parse_head(const std::string& head) {
  ParsedHead out;
  std::size_t pos = head.find("\r\n");
  out.start_line = head.substr(0, pos);
  pos += 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) break;
    std::string line = head.substr(pos, eol - pos);
    auto colon = line.find(':');
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.fields.emplace_back(line.substr(0, colon), value);
    pos = eol + 2;
  }
  return out;
}

std::vector<std::string> connection_tokens(const Fields& fields) {
  std::vector<std::string> out;
  for (const auto& [name, value] : fields) {
    if (lower(name) != "connection") continue;
    std::size_t start = 0;
    while (start <= value.size()) {
      auto comma = value.find(',', start);
      std::string token = value.substr(start, comma == std::string::npos ? comma : comma - start);
      while (!token.empty() && token.front() == ' ') token.erase(0, 1);
      while (!token.empty() && token.back() == ' ') token.pop_back();
      if (!token.empty()) out.push_back(lower(token));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

bool hop_by_hop(const std::string& name, const std::vector<std::string>& named) {
  const std::string n = lower(name);
  if (n.rfind("proxy-", 0) == 0) return true;
  for (const char* h :
       {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}) {
    if (n == h) return true;
  }
  return std::find(named.begin(), named.end(), n) != named.end();
}

Fields without(const Fields& fields, std::initializer_list<const char*> names,
               const std::vector<std::string>& named = {}, bool drop_hop_by_hop = false) {
  Fields out;
  for (const auto& f : fields) {
    const std::string n = lower(f.first);
    bool drop = drop_hop_by_hop && hop_by_hop(f.first, named);
    for (const char* x : names) drop = drop || n == x;
    if (!drop) out.push_back(f);
  }
  return out;
}

// One "Name: value" line per field, for comparisons that print readably when they fail.
std::string lines(const Fields& fields) {
  std::string out;
  for (const auto& [n, v] : fields) out += n + ": " + v + "\n";
  return out;
}

std::size_t count_named(const Fields& fields, const std::string& name) {
  return static_cast<std::size_t>(std::count_if(
      fields.begin(), fields.end(), [&](const auto& f) { return lower(f.first) == name; }));
}

std::string value_of(const Fields& fields, const std::string& name) {
  for (const auto& [n, v] : fields) {
    if (lower(n) == name) return v;
  }
  return {};
}

std::string chunked(const std::string& payload, std::initializer_list<std::size_t> sizes) {
  std::string out;
  std::size_t pos = 0;
  auto it = sizes.begin();
  while (pos < payload.size()) {
    std::size_t n = std::min(it != sizes.end() ? *it++ : payload.size(), payload.size() - pos);
    char line[32];
    std::snprintf(line, sizeof line, "%zx\r\n", n);
    out += line + payload.substr(pos, n) + "\r\n";
    pos += n;
  }
  return out + "0\r\n\r\n";
}

// Text that no rule of the default pack matches: plain words, UTF-8, JSON escapes.
std::string bland_text(std::size_t n) {
  static const char* kWords[] = {"please", "summarise",  "the",  "ticket", "about", "a",
                                 "slow",   "build",      "and",  "café",   "naïve", "résumé",
                                 "of",     "our",        "team", "\\n",    "\\\"",  "→",
                                 "steps",  "tomorrow's", "plan", "✓"};
  std::string out;
  for (std::size_t i = 0; out.size() < n; ++i) {
    out += kWords[(i * 7) % (sizeof kWords / sizeof *kWords)];
    out += ' ';
  }
  return out;
}

std::string chat_request_body(bool stream, std::size_t text_bytes) {
  return std::string("{\"model\":\"gpt-4o-mini\",") + (stream ? "\"stream\":true," : "") +
         "\"messages\":[{\"role\":\"system\",\"content\":\"You are a concise assistant.\"},"
         "{\"role\":\"user\",\"content\":\"" +
         bland_text(text_bytes) + "\"}],\"temperature\":0.2}";
}

std::string chat_completion_json() {
  return "{\"id\":\"chatcmpl-bx1\",\"object\":\"chat.completion\",\"created\":1700000000,"
         "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
         "\"content\":\"" +
         bland_text(3000) +
         "\"},\"finish_reason\":\"stop\"}],"
         "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":40,\"total_tokens\":52}}";
}

std::string sse_events() {
  std::string out;
  const char* deltas[] = {"Sure", ", here", " is the", " plan: café", " → naïve", " steps ✓"};
  for (const char* d : deltas) {
    out +=
        "data: {\"id\":\"chatcmpl-bx2\",\"object\":\"chat.completion.chunk\",\"created\":"
        "1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":"
        "{\"content\":\"" +
        std::string(d) + "\"},\"finish_reason\":null}]}\n\n";
  }
  out +=
      "data: {\"id\":\"chatcmpl-bx2\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
      "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
      "\"stop\"}]}\n\ndata: [DONE]\n\n";
  return out;
}

// Sends `wire` in three pieces (the head split from its body, the body split in two) so that
// the gateway sees the request across several reads.
void send_in_pieces(ClientSocket& c, const std::string& wire) {
  const std::size_t a = wire.size() / 3, b = 2 * wire.size() / 3;
  REQUIRE(c.send(wire.substr(0, a)));
  std::this_thread::sleep_for(15ms);
  REQUIRE(c.send(wire.substr(a, b - a)));
  std::this_thread::sleep_for(15ms);
  REQUIRE(c.send(wire.substr(b)));
}

const std::string kClientHead =
    "POST /v1/chat/completions?trace=on&b=%2F HTTP/1.1\r\n"
    "Host: gateway.example\r\n"
    "User-Agent: byte-exact/1.0\r\n"
    "Content-Type: application/json\r\n"
    "X-Order: first\r\n"
    "Connection: keep-alive, X-Hop-Only\r\n"
    "X-Hop-Only: not forwarded\r\n"
    "Keep-Alive: timeout=5\r\n"
    "Accept: */*\r\n"
    "X-Order: second\r\n"
    "X-Empty: \r\n";

// The request the upstream received matches what the client sent (see the top of the file).
void check_forwarded_request(const std::string& client_head, const RawRequest& got,
                             std::uint16_t upstream_port, const std::string& body) {
  ParsedHead sent = parse_head(client_head);
  ParsedHead seen = parse_head(got.head);
  CHECK(seen.start_line == sent.start_line);
  const auto named = connection_tokens(sent.fields);
  Fields expected = without(sent.fields, {"host", "content-length", "expect"}, named, true);
  Fields forwarded = without(seen.fields, {"host", "content-length", "transfer-encoding"});
  CHECK(lines(forwarded) == lines(expected));
  CHECK(count_named(seen.fields, "host") == 1);
  CHECK(value_of(seen.fields, "host") == "127.0.0.1:" + std::to_string(upstream_port));
  const bool seen_chunked = lower(value_of(seen.fields, "transfer-encoding")) == "chunked";
  CHECK(count_named(seen.fields, "content-length") + (seen_chunked ? 1 : 0) == 1);
  if (seen_chunked) {
    CHECK(dechunk(got.body) == body);
  } else {
    CHECK(value_of(seen.fields, "content-length") == std::to_string(body.size()));
    CHECK(got.body == body);
  }
}

// The response the client received matches what the upstream sent.
void check_forwarded_response(const std::string& upstream_head, const std::string& upstream_body,
                              const std::string& received) {
  REQUIRE(received.find("\r\n\r\n") != std::string::npos);
  ParsedHead sent = parse_head(upstream_head);
  ParsedHead seen = parse_head(received.substr(0, received.find("\r\n\r\n") + 4));
  CHECK(seen.start_line == sent.start_line);
  const auto named = connection_tokens(sent.fields);
  Fields expected = without(sent.fields, {"content-length"}, named, true);
  Fields forwarded = without(seen.fields, {"server-timing", "content-length", "transfer-encoding"});
  CHECK(lines(forwarded) == lines(expected));
  CHECK(count_named(seen.fields, "server-timing") == 1);
  // edgeward;dur=<milliseconds with three decimals>
  const std::string timing = value_of(seen.fields, "server-timing");
  REQUIRE(timing.rfind("edgeward;dur=", 0) == 0);
  const std::string ms = timing.substr(13);
  const auto dot = ms.find('.');
  CHECK(dot != std::string::npos);
  CHECK(dot > 0);
  CHECK(ms.size() == dot + 4);
  CHECK(ms.find_first_not_of("0123456789.") == std::string::npos);
  CHECK(body_of(received) == upstream_body);
}

void requests_are_byte_exact(RawGateway& g) {
  REQUIRE(g.ready());
  ClientSocket c(g.port);
  REQUIRE(c.ok());

  // A sized body over several reads.
  const std::string sized_body = chat_request_body(false, 20000);
  const std::string sized_head =
      kClientHead + "Content-Length: " + std::to_string(sized_body.size()) + "\r\n\r\n";
  send_in_pieces(c, sized_head + sized_body);
  std::string r1 = c.read_response(10s);
  REQUIRE(status_of(r1) == 200);
  REQUIRE(g.upstream.wait_requests(1, 5s));
  check_forwarded_request(sized_head, g.upstream.requests()[0], g.upstream.port(), sized_body);

  // A chunked body, chunks of odd sizes, on the same keep-alive connection.
  const std::string chunked_payload = chat_request_body(false, 9000);
  const std::string chunked_head = kClientHead + "Transfer-Encoding: chunked\r\n\r\n";
  send_in_pieces(c, chunked_head + chunked(chunked_payload, {1, 2, 4093, 17, 3000}));
  std::string r2 = c.read_response(10s);
  REQUIRE(status_of(r2) == 200);
  REQUIRE(g.upstream.wait_requests(2, 5s));
  check_forwarded_request(chunked_head, g.upstream.requests()[1], g.upstream.port(),
                          chunked_payload);
}

void sized_and_chunked_responses_are_byte_exact(RawGateway& g) {
  REQUIRE(g.ready());
  ClientSocket c(g.port);
  REQUIRE(c.ok());
  const std::string req_body = chat_request_body(false, 200);
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
      "Content-Type: application/json\r\nContent-Length: " +
      std::to_string(req_body.size()) + "\r\n\r\n" + req_body;

  // A sized JSON completion, written in three pieces.
  const std::string json = chat_completion_json();
  const std::string json_head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: up-1\r\n"
      "Connection: keep-alive\r\nKeep-Alive: timeout=30\r\nOpenAI-Processing-Ms: 12\r\n"
      "Content-Length: " +
      std::to_string(json.size()) + "\r\n\r\n";
  g.upstream.queue(
      {{json_head + json.substr(0, 100), json.substr(100, 1500), json.substr(1600)}, 10ms});
  REQUIRE(c.send(request));
  check_forwarded_response(json_head, json, c.read_response(10s));

  // The same completion, chunked by the upstream.
  const std::string chunked_head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: up-2\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  const std::string framed = chunked(json, {7, 1000, 1, 2000});
  g.upstream.queue(
      {{chunked_head + framed.substr(0, 20), framed.substr(20, 1500), framed.substr(1520)}, 10ms});
  REQUIRE(c.send(request));
  check_forwarded_response(chunked_head, json, c.read_response(10s));
}

// An SSE stream, events split across chunks and chunks across writes, 20 ms apart.
void sse_is_byte_exact(RawGateway& g) {
  REQUIRE(g.ready());
  ClientSocket c(g.port);
  REQUIRE(c.ok());
  const std::string sse_request_body = chat_request_body(true, 200);
  const std::string sse_request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
      "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
      "Content-Length: " +
      std::to_string(sse_request_body.size()) + "\r\n\r\n" + sse_request_body;
  const std::string events = sse_events();
  const std::string sse_head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Request-Id: up-3\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string sse_framed = chunked(events, {50, 300, 3, 120, 400, 1});
  std::vector<std::string> pieces{sse_head};
  for (std::size_t pos = 0; pos < sse_framed.size(); pos += 90) {
    pieces.push_back(sse_framed.substr(pos, 90));
  }
  g.upstream.queue({pieces, 20ms});
  REQUIRE(c.send(sse_request));
  check_forwarded_response(sse_head, events, c.read_response(20s));
}

}  // namespace

TEST_CASE("byte-exact: sized and chunked request bodies with the default pack active",
          "[integration][byte_exact]") {
  RawGateway g("", true);
  REQUIRE(g.rules_state().find("\"state\":\"active\"") != std::string::npos);
  requests_are_byte_exact(g);
}

TEST_CASE("byte-exact: sized and chunked request bodies with rules unavailable, fail_mode open",
          "[integration][byte_exact]") {
  TempDir rules;
  RawGateway g(rules_unavailable_yaml(rules), false);
  REQUIRE(g.rules_state().find("\"state\":\"active\"") == std::string::npos);
  requests_are_byte_exact(g);
}

TEST_CASE("byte-exact: sized JSON and chunked responses with the default pack active",
          "[integration][byte_exact]") {
  RawGateway g("", true);
  REQUIRE(g.rules_state().find("\"state\":\"active\"") != std::string::npos);
  sized_and_chunked_responses_are_byte_exact(g);
}

TEST_CASE("byte-exact: sized JSON and chunked responses with rules unavailable, fail_mode open",
          "[integration][byte_exact]") {
  TempDir rules;
  RawGateway g(rules_unavailable_yaml(rules), false);
  REQUIRE(g.rules_state().find("\"state\":\"active\"") == std::string::npos);
  sized_and_chunked_responses_are_byte_exact(g);
}

// With the default streaming.holdback_bytes (128) the inspection engine holds delta text back
// and re-cuts it across events even when nothing matches (the joined text is unchanged; see
// gateway_test.cpp); with no holdback the stream is forwarded byte for byte.
TEST_CASE("byte-exact: an SSE stream with the default pack active and holdback_bytes 0",
          "[integration][byte_exact]") {
  RawGateway g("streaming: { holdback_bytes: 0 }\n", true);
  REQUIRE(g.rules_state().find("\"state\":\"active\"") != std::string::npos);
  sse_is_byte_exact(g);
}

TEST_CASE("byte-exact: an SSE stream with rules unavailable, fail_mode open",
          "[integration][byte_exact]") {
  TempDir rules;
  RawGateway g(rules_unavailable_yaml(rules), false);
  REQUIRE(g.rules_state().find("\"state\":\"active\"") == std::string::npos);
  sse_is_byte_exact(g);
}
