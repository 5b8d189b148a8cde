#include "daemon/inspect/body_rewrite.hpp"

#include <catch2/catch.hpp>

using namespace edgeward::inspect;

namespace {

// null_members' output, or nullopt when it replaced nothing (kNone or kUnreadable).
std::optional<std::string> null_members(std::string_view json, std::string_view key) {
  std::string out;
  if (edgeward::inspect::null_members(json, key, out) != NullMembers::kReplaced) return {};
  return out;
}

}  // namespace

TEST_CASE("null_members withholds every logprobs value at any depth, arrays as empty arrays") {
  const std::string chat =
      R"({"choices":[{"index":0,"delta":{"content":"a"},"logprobs":{"content":[{"token":"a",)"
      R"("logprob":-0.1,"bytes":[97],"top_logprobs":[]}]}},{"index":1,"logprobs" : null}]})";
  auto out = null_members(chat, "logprobs");
  REQUIRE(out.has_value());
  CHECK(
      *out ==
      R"({"choices":[{"index":0,"delta":{"content":"a"},"logprobs":null},{"index":1,"logprobs" : null}]})");
  // Responses API events carry an array: kept an array.
  auto responses = null_members(
      R"({"type":"response.output_text.delta","delta":"a","logprobs":[{"token":"a"}]})",
      "logprobs");
  REQUIRE(responses.has_value());
  CHECK(*responses == R"({"type":"response.output_text.delta","delta":"a","logprobs":[]})");
  // A key spelled with escapes is the same key to a client's parser.
  auto escaped = null_members(R"({"log\u0070robs":{"tokens":["x"]},"n":1})", "logprobs");
  REQUIRE(escaped.has_value());
  CHECK(*escaped == R"({"log\u0070robs":null,"n":1})");
  // A scalar keeps the whitespace after it.
  auto scalar = null_members("{\"logprobs\": 3 , \"b\":true}", "logprobs");
  REQUIRE(scalar.has_value());
  CHECK(*scalar == "{\"logprobs\": null , \"b\":true}");
}

TEST_CASE("null_members leaves a payload without the member, or that does not parse, alone") {
  CHECK_FALSE(null_members(R"({"choices":[{"delta":{"content":"logprobs"}}]})", "logprobs"));
  CHECK_FALSE(null_members(R"({"content":"the \"logprobs\" word"})", "logprobs"));
  CHECK_FALSE(null_members("[DONE]", "logprobs"));
  std::string out;
  CHECK(edgeward::inspect::null_members("[DONE]", "logprobs", out) == NullMembers::kNone);
  // One that may hold the member but cannot be read is said so: the caller fails closed.
  CHECK(edgeward::inspect::null_members(R"({"logprobs":{"content":[)", "logprobs", out) ==
        NullMembers::kUnreadable);
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "[";
  deep += R"({"logprobs":1})";
  for (int i = 0; i < 200; ++i) deep += "]";
  CHECK(edgeward::inspect::null_members(deep, "logprobs", out) == NullMembers::kUnreadable);
}

TEST_CASE("null_members leaves a tool's own parameter named logprobs alone") {
  auto out = null_members(
      R"({"message":{"tool_calls":[{"function":{"name":"f","arguments":{"logprobs":5}}}]},)"
      R"("logprobs":{"content":[]}})",
      "logprobs");
  REQUIRE(out.has_value());
  CHECK(*out ==
        R"({"message":{"tool_calls":[{"function":{"name":"f","arguments":{"logprobs":5}}}]},)"
        R"("logprobs":null})");
}

TEST_CASE("null_members does not parse a payload whose escapes only spell non-ASCII text") {
  // Servers that escape every non-ASCII character (`\u00e9`, `\u4e2d`) write them in most
  // events: those are not read twice. A broken payload of that kind is left to its own parser.
  std::string out;
  CHECK(edgeward::inspect::null_members(R"({"t":"caf\u00e9 \u4e2d)", "logprobs", out) ==
        NullMembers::kNone);
  // An escape that can spell a letter of the key is read, and a broken one is said so.
  CHECK(edgeward::inspect::null_members(R"({"log\u0070robs":{"x":)", "logprobs", out) ==
        NullMembers::kUnreadable);
  CHECK(edgeward::inspect::null_members(R"({"t":"caf\u00e9","log\u0070robs":1})", "logprobs",
                                        out) == NullMembers::kReplaced);
  CHECK(out == R"({"t":"caf\u00e9","log\u0070robs":null})");
}
