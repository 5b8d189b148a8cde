#include "core/net/http_message.hpp"

#include <catch2/catch.hpp>

using namespace edgeward::http;

TEST_CASE("Headers look up names case-insensitively and keep duplicates in order", "[http]") {
  Headers h;
  h.add("Content-Type", "application/json");
  h.add("X-A", "1");
  h.add("x-a", "2");
  CHECK(h.get("content-type") == "application/json");
  CHECK(h.count("X-A") == 2);
  CHECK(h.get("x-A") == "1");
  CHECK(h.remove("X-a") == 2);
  CHECK_FALSE(h.has("x-a"));
  CHECK_FALSE(h.get("missing").has_value());
}

TEST_CASE("Headers::set replaces every field of that name", "[http]") {
  Headers h;
  h.add("Host", "a");
  h.add("host", "b");
  h.set("Host", "api.openai.com");
  CHECK(h.count("host") == 1);
  CHECK(h.get("HOST") == "api.openai.com");
}

TEST_CASE("RequestHead::path drops the query string", "[http]") {
  RequestHead r;
  r.target = "/v1/chat/completions?api-version=2&k=v";
  CHECK(r.path() == "/v1/chat/completions");
  r.target = "/plain";
  CHECK(r.path() == "/plain");
}

TEST_CASE("Heads serialise to HTTP/1.1 wire form with the original name case", "[http]") {
  ResponseHead resp;
  resp.status = 413;
  resp.headers.add("Content-Length", "0");
  std::string out;
  serialize(resp, out);
  CHECK(out == "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n");

  RequestHead req;
  req.method = "GET";
  req.target = "/healthz";
  req.headers.add("host", "x");
  out.clear();
  serialize(req, out);
  CHECK(out == "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
}

TEST_CASE("reason_phrase answers Unknown for codes it does not know", "[http]") {
  CHECK(reason_phrase(599) == "Unknown");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
}
