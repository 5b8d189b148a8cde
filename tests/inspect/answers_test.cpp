#include "daemon/inspect/answers.hpp"

#include <catch2/catch.hpp>

#include "daemon/inspect/body_rewrite.hpp"

using namespace edgeward::inspect;

TEST_CASE("openai, generic and ollama block bodies have the exact DESIGN shape") {
  std::string expected =
      R"j({"error":{"message":"blocked by edgeward: DLP.PII.IBAN (rule IBAN)","type":"edgeward_block",)j"
      R"j("code":"DLP.PII.IBAN","param":null,"event":"evt_01JD0000000000000000000000"}})j";
  for (Dialect d : {Dialect::kOpenAI, Dialect::kGeneric, Dialect::kOllama}) {
    CHECK(block_body(d, "DLP.PII.IBAN", "IBAN", "evt_01JD0000000000000000000000") == expected);
  }
}

TEST_CASE("anthropic block bodies are permission errors") {
  CHECK(block_body(Dialect::kAnthropic, "DLP.PII.IBAN", "IBAN", "evt_x") ==
        R"j({"type":"error","error":{"type":"permission_error",)j"
        R"j("message":"blocked by edgeward: DLP.PII.IBAN (rule IBAN)"}})j");
}

TEST_CASE("a rule name with quotes is escaped in the block body") {
  std::string b = block_body(Dialect::kOpenAI, "POLICY.CUSTOM", "say \"no\"", "evt_x");
  CHECK(b.find(R"((rule say \"no\"))") != std::string::npos);
}

TEST_CASE("the rules-unavailable body names POLICY.RULES_UNAVAILABLE in both shapes") {
  CHECK(unavailable_body(Dialect::kOpenAI).find(R"("code":"POLICY.RULES_UNAVAILABLE")") !=
        std::string::npos);
  CHECK(unavailable_body(Dialect::kAnthropic).find("POLICY.RULES_UNAVAILABLE") !=
        std::string::npos);
}

TEST_CASE("stream block events use each dialect's streaming error framing") {
  std::string o = stream_block_event(Dialect::kOpenAI, StreamFormat::kSse, "C.X", "r", "evt_1");
  CHECK(o.rfind("data: {\"error\":", 0) == 0);
  CHECK(o.ends_with("\n\n"));
  std::string a = stream_block_event(Dialect::kAnthropic, StreamFormat::kSse, "C.X", "r", "evt_1");
  CHECK(a.rfind("event: error\ndata: {\"type\":\"error\"", 0) == 0);
  std::string n = stream_block_event(Dialect::kOllama, StreamFormat::kNdjson, "C.X", "r", "evt_1");
  CHECK(n == R"j({"error":"blocked by edgeward: C.X (rule r)","code":"C.X","event":"evt_1"})j"
             "\n");
}

TEST_CASE("rewrite_json_strings re-escapes new values and keeps every other byte") {
  std::string body = R"j({"a": "x\"y",  "b":[1, "keep"], "c":"zz"})j";
  std::size_t a = body.find(R"j("x\"y")j");
  std::size_t c = body.find(R"j("zz")j");
  auto r = rewrite_json_strings(body, {{c, c + 4, "new\nline"}, {a, a + 6, "q\"\\"}});
  REQUIRE(r.ok());
  CHECK(*r == R"j({"a": "q\"\\",  "b":[1, "keep"], "c":"new\nline"})j");
}

TEST_CASE("rewrite_json_strings refuses overlapping or out-of-range replacements") {
  auto r = rewrite_json_strings("0123456789", {{1, 5, "a"}, {4, 6, "b"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "inspect.bad_replacement");
  CHECK_FALSE(rewrite_json_strings("0123", {{2, 9, "a"}}).ok());
}
