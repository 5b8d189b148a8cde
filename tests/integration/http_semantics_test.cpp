// HTTP/1.1 behaviours of issue 4 point 1 through the real edgewardd (the server-level tests are
// in tests/core/http_server_test.cpp): Expect: 100-continue and pipelining, with the default
// pack active (the mock upstream, bodies inspected) and uninspected (a raw upstream).
#include <catch2/catch.hpp>
#include <thread>

#include "tests/integration/harness.hpp"
#include "tests/integration/raw_upstream.hpp"

using namespace edgeward::testing;
using namespace std::chrono_literals;

namespace {

std::string json_body(const std::string& text) {
  return "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
}

// Sends a head with Expect: 100-continue, checks that "100 Continue" comes before any body byte
// is sent, then sends the body; returns the final response.
std::string post_with_expect(std::uint16_t port, const std::string& target,
                             const std::string& body) {
  ClientSocket c(port);
  REQUIRE(c.ok());
  REQUIRE(c.send("POST " + target +
                 " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Expect: 100-continue\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n"));
  std::string interim = c.read_until("\r\n\r\n", 5s);
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(c.send(body));
  return c.read_response(10s);
}

}  // namespace

TEST_CASE("Expect: 100-continue is answered by the gateway and not forwarded (pack active)",
          "[integration][http]") {
  Gateway g;
  REQUIRE(g.ready());
  const std::string body = json_body("please summarise the ticket");
  std::string r = post_with_expect(g.port, "/echo", body);
  REQUIRE(status_of(r) == 200);
  const std::string echoed = body_of(r);
  CHECK(echoed.find("\"body_length\":" + std::to_string(body.size())) != std::string::npos);
  CHECK(echoed.find("Expect") == std::string::npos);
  CHECK(echoed.find("100-continue") == std::string::npos);
}

TEST_CASE("Expect: 100-continue is answered by the gateway and not forwarded (uninspected)",
          "[integration][http]") {
  TempDir rules;
  RawGateway g(rules_unavailable_yaml(rules), false);
  REQUIRE(g.ready());
  const std::string body = json_body("please summarise the ticket");
  std::string r = post_with_expect(g.port, "/v1/chat/completions", body);
  REQUIRE(status_of(r) == 200);
  REQUIRE(g.upstream.wait_requests(1, 5s));
  const RawRequest got = g.upstream.requests()[0];
  CHECK(got.body == body);
  CHECK(got.head.find("Expect") == std::string::npos);
}

TEST_CASE("pipelined requests are answered in order, each with its own answer",
          "[integration][http]") {
  Gateway g;
  REQUIRE(g.ready());
  g.mock_reset();
  // Three requests in one write; the first is slow at the upstream, so a gateway that
  // answered out of order would put the second or third answer first.
  const std::string b1 = json_body("first"), b3 = json_body("third");
  std::string wire =
      "POST /delay?ms=200 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(b1.size()) + "\r\n\r\n" + b1 +
      "GET /sized?bytes=7 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(b3.size()) + "\r\n\r\n" + b3;
  ClientSocket c(g.port);
  REQUIRE(c.send(wire));
  std::string r1 = c.read_response(10s);
  std::string r2 = c.read_response(10s);
  std::string r3 = c.read_response(10s);
  REQUIRE(status_of(r1) == 200);
  REQUIRE(status_of(r2) == 200);
  REQUIRE(status_of(r3) == 200);
  CHECK(body_of(r1).find("\"delayed_ms\":200") != std::string::npos);
  CHECK(body_of(r2) == "abcdefg");
  CHECK(body_of(r3).find("\"body_length\":" + std::to_string(b3.size())) != std::string::npos);
  // The upstream saw them in the order sent, one after the other.
  const int s1 = std::atoi(header_value(r1, "X-Mock-Seq").c_str());
  const int s2 = std::atoi(header_value(r2, "X-Mock-Seq").c_str());
  const int s3 = std::atoi(header_value(r3, "X-Mock-Seq").c_str());
  CHECK(s1 > 0);
  CHECK(s2 == s1 + 1);
  CHECK(s3 == s2 + 1);
}
