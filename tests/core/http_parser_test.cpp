#include "core/net/http_parser.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace edgeward;
using namespace edgeward::http;

namespace {

// Records everything the parser reports.
struct RecordingSink : ParserSink {
  std::vector<RequestHead> requests;
  std::vector<ResponseHead> responses;
  std::vector<BodyFraming> framings;
  std::vector<std::string> bodies;
  int completed = 0;
  ParserAction head_action = ParserAction::Continue;

  ParserAction on_request_head(RequestHead&& head, const BodyFraming& f) override {
    requests.push_back(std::move(head));
    framings.push_back(f);
    bodies.emplace_back();
    return head_action;
  }
  ParserAction on_response_head(ResponseHead&& head, const BodyFraming& f) override {
    responses.push_back(std::move(head));
    framings.push_back(f);
    bodies.emplace_back();
    return head_action;
  }
  ParserAction on_body(std::string_view b) override {
    bodies.back().append(b);
    return ParserAction::Continue;
  }
  ParserAction on_message_complete() override {
    ++completed;
    return ParserAction::Continue;
  }
};

// Feeds all of `wire`, resuming after each completed message, in pieces of `step` bytes.
Status feed(HttpParser& p, std::string_view wire, std::size_t step = 1 << 20) {
  while (!wire.empty()) {
    std::string_view piece = wire.substr(0, std::min(step, wire.size()));
    auto r = p.execute(piece);
    if (!r) return r.error();
    wire.remove_prefix(*r);
  }
  return {};
}

std::string error_code_of(std::string_view wire) {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  Status st = feed(p, wire);
  return st ? std::string("ok") : st.error().code;
}

}  // namespace

TEST_CASE("parser delivers a sized request head and body", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  std::string wire =
      "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
      "X-Mixed-Case: Value\r\n\r\nhello";
  REQUIRE(feed(p, wire));
  REQUIRE(sink.requests.size() == 1);
  CHECK(sink.requests[0].method == "POST");
  CHECK(sink.requests[0].target == "/v1/chat/completions?x=1");
  CHECK(sink.requests[0].headers.list()[2].name == "X-Mixed-Case");
  CHECK(sink.requests[0].headers.get("x-mixed-case") == "Value");
  CHECK(sink.framings[0].content_length == 5u);
  CHECK_FALSE(sink.framings[0].chunked);
  CHECK(sink.bodies[0] == "hello");
  CHECK(sink.completed == 1);
  CHECK(p.keep_alive());
}

TEST_CASE("parser gives the same result when fed one byte at a time", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  std::string wire =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer-A: 1\r\n\r\n";
  REQUIRE(feed(p, wire, 1));
  REQUIRE(sink.requests.size() == 1);
  CHECK(sink.framings[0].chunked);
  CHECK(sink.bodies[0] == "abcdefg");
  CHECK(sink.requests[0].headers.get("host") == "a");
  CHECK(sink.completed == 1);
}

TEST_CASE("parser stops after each pipelined request", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  std::string one = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string two = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string wire = one + two;
  auto r = p.execute(wire);
  REQUIRE(r);
  CHECK(*r == one.size());
  CHECK(sink.requests.size() == 1);
  auto r2 = p.execute(std::string_view(wire).substr(*r));
  REQUIRE(r2);
  CHECK(*r2 == two.size());
  REQUIRE(sink.requests.size() == 2);
  CHECK(sink.requests[1].target == "/b");
}

TEST_CASE("parser reports Expect: 100-continue and Connection: close", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  REQUIRE(feed(p,
               "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: close\r\n"
               "Content-Length: 1\r\n\r\nz"));
  REQUIRE(sink.framings.size() == 1);
  CHECK(sink.framings[0].expect_continue);
  CHECK_FALSE(sink.framings[0].keep_alive);
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("parser refuses Content-Length together with Transfer-Encoding", "[http_parser]") {
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n") ==
        "http.content_length_conflict");
}

TEST_CASE("parser refuses duplicate and conflicting Content-Length", "[http_parser]") {
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
                      "\r\nabc") == "http.content_length_conflict");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n"
                      "\r\nabcd") == "http.content_length_conflict");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc") ==
        "http.bad_content_length");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc") ==
        "http.bad_content_length");
}

TEST_CASE("parser refuses obs-fold", "[http_parser]") {
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n") ==
        "http.obs_fold");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\nContent-Length: 0\r\n\r\n") ==
        "http.obs_fold");
}

TEST_CASE("parser refuses bad chunk sizes", "[http_parser]") {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(error_code_of(head + "zz\r\nabc\r\n0\r\n\r\n") == "http.bad_chunk");
  CHECK(error_code_of(head + "-3\r\nabc\r\n0\r\n\r\n") == "http.bad_chunk");
  CHECK(error_code_of(head + "fffffffffffffffff\r\nabc\r\n0\r\n\r\n") == "http.bad_chunk");
  CHECK(error_code_of(head + "3 \r\nabc\r\n0\r\n\r\n") == "http.bad_chunk");
  CHECK(error_code_of(head + "3\nabc\r\n0\r\n\r\n") == "http.bad_chunk");
  CHECK(error_code_of(head + "3\r\nabcX0\r\n\r\n") == "http.bad_chunk");
}

TEST_CASE("parser refuses a bare LF or bare CR in the head", "[http_parser]") {
  CHECK(error_code_of("POST / HTTP/1.1\nHost: a\r\nContent-Length: 0\r\n\r\n") == "http.bare_lf");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\nContent-Length: 0\r\n\r\n") == "http.bare_lf");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\n") == "http.bare_lf");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\rX: 1\r\n\r\n") == "http.bare_cr");
}

TEST_CASE("parser refuses header names that are not tokens", "[http_parser]") {
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nX A: b\r\nContent-Length: 0\r\n\r\n") ==
        "http.bad_header_name");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nX@A: b\r\nContent-Length: 0\r\n\r\n") ==
        "http.malformed");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc") ==
        "http.malformed");
}

TEST_CASE("parser refuses Transfer-Encoding that does not end in chunked", "[http_parser]") {
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc") ==
        "http.bad_transfer_encoding");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") ==
        "http.bad_transfer_encoding");
  CHECK(error_code_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        "http.bad_transfer_encoding");
}

TEST_CASE("parser refuses a head larger than max_header_bytes", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink, HttpParser::Limits{.max_header_bytes = 64});
  std::string wire = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(100, 'x') + "\r\n\r\n";
  Status st = feed(p, wire, 7);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == "http.header_too_large");
  CHECK(sink.requests.empty());
}

TEST_CASE("parser takes a head of exactly max_header_bytes and refuses one byte more, at any split",
          "[http_parser]") {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ";
  const std::string end = "\r\n\r\n";
  const std::size_t limit = 96;
  const std::string exact = start + std::string(limit - start.size() - end.size(), 'x') + end;
  REQUIRE(exact.size() == limit);
  const std::string over = start + std::string(limit + 1 - start.size() - end.size(), 'x') + end;
  for (std::size_t step : {std::size_t{1}, std::size_t{5}, std::size_t{33}, exact.size()}) {
    RecordingSink ok_sink;
    HttpParser ok(ParseMode::Request, ok_sink, HttpParser::Limits{.max_header_bytes = limit});
    CHECK(feed(ok, exact, step));
    CHECK(ok_sink.requests.size() == 1);
    RecordingSink big_sink;
    HttpParser big(ParseMode::Request, big_sink, HttpParser::Limits{.max_header_bytes = limit});
    Status st = feed(big, over, step);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == "http.header_too_large");
    // A bare CR or LF in the middle of a long value is found whatever the split.
    for (const char* bad : {"\r", "\n"}) {
      RecordingSink bad_sink;
      HttpParser bp(ParseMode::Request, bad_sink);
      Status b = feed(bp, start + "xxxxxxxxxx" + bad + "xxxxxxxxxx" + end, step);
      REQUIRE_FALSE(b);
      CHECK(b.error().code == (bad[0] == '\r' ? "http.bare_cr" : "http.bare_lf"));
    }
  }
}

TEST_CASE("parser stays failed after an error until reset", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  REQUIRE_FALSE(p.execute("GET / HTTP/1.1\nHost: a\r\n\r\n"));
  auto again = p.execute("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == "http.bare_lf");
  p.reset();
  REQUIRE(feed(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(sink.requests.size() == 1);
}

TEST_CASE("parser reports a head callback Abort as http.callback_abort", "[http_parser]") {
  RecordingSink sink;
  sink.head_action = ParserAction::Abort;
  HttpParser p(ParseMode::Request, sink);
  auto r = p.execute("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == "http.callback_abort");
}

TEST_CASE("parser finish() reports a truncated request as http.incomplete", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  REQUIRE(p.execute("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));
  Status st = p.finish();
  REQUIRE_FALSE(st);
  CHECK(st.error().code == "http.incomplete");
}

TEST_CASE("parser finish() between messages is fine", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Request, sink);
  REQUIRE(feed(p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(p.finish());
}

TEST_CASE("parser in response mode reads sized, chunked and until-EOF bodies", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Response, sink);
  REQUIRE(feed(p,
               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
               "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\ndata:\r\n0\r\n\r\n"));
  REQUIRE(sink.responses.size() == 2);
  CHECK(sink.responses[0].status == 200);
  CHECK(sink.responses[0].reason == "OK");
  CHECK(sink.bodies[0] == "hi");
  CHECK(sink.responses[1].status == 201);
  CHECK(sink.framings[1].chunked);
  CHECK(sink.bodies[1] == "data:");

  RecordingSink eof_sink;
  HttpParser q(ParseMode::Response, eof_sink);
  REQUIRE(feed(q, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstream until close"));
  CHECK(eof_sink.framings[0].until_eof);
  CHECK(eof_sink.completed == 0);
  REQUIRE(q.finish());
  CHECK(eof_sink.completed == 1);
  CHECK(eof_sink.bodies[0] == "stream until close");
}

TEST_CASE("parser in response mode honours NoBody for a response to HEAD", "[http_parser]") {
  RecordingSink sink;
  sink.head_action = ParserAction::NoBody;
  HttpParser p(ParseMode::Response, sink);
  std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  auto r = p.execute(first + "HTTP/1.1 204 No Content\r\n\r\n");
  REQUIRE(r);
  CHECK(*r == first.size());
  CHECK(sink.completed == 1);
  CHECK(sink.bodies[0].empty());
}

TEST_CASE("parser in response mode delivers 1xx interim responses as messages", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Response, sink);
  REQUIRE(feed(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"));
  REQUIRE(sink.responses.size() == 2);
  CHECK(sink.responses[0].status == 100);
  CHECK(sink.responses[1].status == 200);
  CHECK(sink.bodies[1] == "x");
}

TEST_CASE("parser in response mode refuses obs-fold and bare LF", "[http_parser]") {
  RecordingSink sink;
  HttpParser p(ParseMode::Response, sink);
  auto r = p.execute("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == "http.obs_fold");
  HttpParser q(ParseMode::Response, sink);
  auto r2 = q.execute("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n");
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == "http.bare_lf");
}

TEST_CASE("parser in response mode refuses a transfer coding other than chunked", "[http_parser]") {
  for (const char* te : {"Transfer-Encoding: gzip, chunked\r\n",
                         "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                         "Transfer-Encoding: gzip\r\n", "Transfer-Encoding: chunked, gzip\r\n",
                         "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"}) {
    RecordingSink sink;
    HttpParser p(ParseMode::Response, sink);
    auto r = p.execute(std::string("HTTP/1.1 200 OK\r\n") + te + "\r\n2\r\nab\r\n0\r\n\r\n");
    INFO(te);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "http.bad_transfer_encoding");
    CHECK(sink.responses.empty());
  }
  RecordingSink sink;
  HttpParser p(ParseMode::Response, sink);
  REQUIRE(feed(p,
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, Chunked\r\n\r\n"
               "2\r\nab\r\n0\r\n\r\n"));
  CHECK(sink.bodies[0] == "ab");
}

TEST_CASE("is_token accepts RFC 9110 tokens only", "[http_parser]") {
  CHECK(is_token("Content-Type"));
  CHECK(is_token("x!#$%&'*+-.^_`|~9"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("a b"));
  CHECK_FALSE(is_token("a:b"));
  CHECK_FALSE(is_token("a\"b"));
}
