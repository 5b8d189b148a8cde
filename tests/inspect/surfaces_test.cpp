#include "daemon/inspect/surfaces.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace edgeward::inspect;

namespace {

constexpr std::string_view kIban = "DE89 3704 0044 0532 0130 00";

// The pieces whose text contains `needle`.
std::vector<const TextPiece*> find(const ExtractedBody& b, std::string_view needle) {
  std::vector<const TextPiece*> out;
  for (const TextPiece& p : b.pieces) {
    if (p.text.find(needle) != std::string::npos) out.push_back(&p);
  }
  return out;
}

// The one piece read as written that holds `needle` (a decoded second reading of it aside).
const TextPiece& only(const ExtractedBody& b, std::string_view needle) {
  auto hits = find(b, needle);
  std::erase_if(hits, [](const TextPiece* p) { return p->decoded_from != TextPiece::kNotDecoded; });
  REQUIRE(hits.size() == 1);
  return *hits[0];
}

Route chat() {
  return {Dialect::kOpenAI, Endpoint::kChatCompletions};
}

}  // namespace

TEST_CASE("auto routes each provider path to its dialect and endpoint") {
  auto r = route_for(DialectSetting::kAuto, "/v1/chat/completions");
  CHECK(r.dialect == Dialect::kOpenAI);
  CHECK(r.endpoint == Endpoint::kChatCompletions);
  CHECK(route_for(DialectSetting::kAuto, "/v1/completions").endpoint == Endpoint::kCompletions);
  CHECK(route_for(DialectSetting::kAuto, "/v1/responses").endpoint == Endpoint::kResponses);
  CHECK(route_for(DialectSetting::kAuto, "/v1/embeddings").endpoint == Endpoint::kEmbeddings);
  r = route_for(DialectSetting::kAuto, "/v1/messages");
  CHECK(r.dialect == Dialect::kAnthropic);
  CHECK(r.endpoint == Endpoint::kMessages);
  r = route_for(DialectSetting::kAuto, "/api/chat");
  CHECK(r.dialect == Dialect::kOllama);
  CHECK(r.endpoint == Endpoint::kOllamaChat);
  CHECK(route_for(DialectSetting::kAuto, "/api/generate").endpoint == Endpoint::kOllamaGenerate);
  r = route_for(DialectSetting::kAuto, "/something/else");
  CHECK(r.dialect == Dialect::kGeneric);
  CHECK(r.endpoint == Endpoint::kUnknown);
}

TEST_CASE("auto routes prefixed and Azure-style deployment paths by their ending") {
  auto r = route_for(DialectSetting::kAuto, "/openai/deployments/gpt4/chat/completions");
  CHECK(r.dialect == Dialect::kOpenAI);
  CHECK(r.endpoint == Endpoint::kChatCompletions);
  CHECK(route_for(DialectSetting::kAuto, "/v1/chat/completions/").endpoint ==
        Endpoint::kChatCompletions);
  // Assistants thread messages are not Anthropic messages.
  CHECK(route_for(DialectSetting::kAuto, "/v1/threads/t1/messages").dialect == Dialect::kGeneric);
}

TEST_CASE("an explicit dialect keeps its answers on paths it does not know") {
  auto r = route_for(DialectSetting::kAnthropic, "/v1/other");
  CHECK(r.dialect == Dialect::kAnthropic);
  CHECK(r.endpoint == Endpoint::kUnknown);
  CHECK(route_for(DialectSetting::kGeneric, "/v1/chat/completions").dialect == Dialect::kGeneric);
}

TEST_CASE("parse_dialect_setting accepts the five names and refuses others") {
  CHECK(parse_dialect_setting("auto").value() == DialectSetting::kAuto);
  CHECK(parse_dialect_setting("ollama").value() == DialectSetting::kOllama);
  auto bad = parse_dialect_setting("OpenAI");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "inspect.bad_dialect");
}

TEST_CASE("openai chat: every role's text is a pre-template piece with its exact span") {
  std::string body = R"({"model":"gpt-4o","max_tokens":77,"messages":[)"
                     R"({"role":"system","content":"sys \"quoted\" DE89 3704 0044 0532 0130 00"},)"
                     R"({"role":"assistant","content":"earlier"},)"
                     R"({"role":"user","content":[{"type":"text","text":"part one"},)"
                     R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(b.model == "gpt-4o");
  REQUIRE(b.max_tokens);
  CHECK(*b.max_tokens == 77);
  const TextPiece& sys = only(b, kIban);
  CHECK(sys.layer == Layer::kPreTemplate);
  CHECK(sys.matched_in == MatchedIn::kBody);
  CHECK(sys.text == "sys \"quoted\" DE89 3704 0044 0532 0130 00");
  REQUIRE(sys.span_kind == SpanKind::kJsonString);
  CHECK(body.substr(sys.span_begin, sys.span_end - sys.span_begin) ==
        R"("sys \"quoted\" DE89 3704 0044 0532 0130 00")");
  CHECK(only(b, "earlier").layer == Layer::kPreTemplate);
  CHECK(only(b, "part one").layer == Layer::kPreTemplate);
  // Binary parts are not text.
  CHECK(find(b, "base64").empty());
}

TEST_CASE("openai chat: the post-template conversation joins every turn with its role") {
  std::string body = R"({"messages":[{"content":"be nice","role":"system"},)"
                     R"({"role":"user","content":"DE89 3704 0044"},)"
                     R"({"role":"user","content":"0532 0130 00"}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(b.conversation == "system: be nice\nuser: DE89 3704 0044\nuser: 0532 0130 00\n");
  REQUIRE(b.segments.size() == 3);
  CHECK(b.conversation.substr(b.segments[1].offset, 14) == "DE89 3704 0044");
  CHECK(b.pieces[b.segments[1].piece].text == "DE89 3704 0044");
}

TEST_CASE("openai chat: tool definitions, tool-call arguments and tool results are tool-call") {
  std::string body =
      R"({"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
      R"("function":{"name":"pay","arguments":"{\"iban\":\"ARGS-SECRET\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"c1","content":"RESULT-SECRET"}],)"
      R"("tools":[{"type":"function","function":{"name":"pay","description":"DESC-SECRET",)"
      R"("parameters":{"type":"object","properties":{"iban":{"description":"SCHEMA-SECRET"}}}}}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  for (auto needle : {"ARGS-SECRET", "RESULT-SECRET", "DESC-SECRET", "SCHEMA-SECRET"}) {
    INFO(needle);
    const TextPiece& p = only(b, needle);
    CHECK(p.layer == Layer::kToolCall);
    CHECK(p.matched_in == MatchedIn::kTools);
  }
  CHECK(only(b, "ARGS-SECRET").text == R"({"iban":"ARGS-SECRET"})");
  CHECK(only(b, "SCHEMA-SECRET").span_kind == SpanKind::kJsonValue);
  CHECK(b.tools_defined == std::vector<std::string>{"pay"});
  CHECK(b.tools_called == std::vector<std::string>{"pay"});
  // The model sees the tool result and the call: both are in the conversation.
  CHECK(b.conversation.find("tool: RESULT-SECRET\n") != std::string::npos);
}

TEST_CASE("a tool message is a tool result even when its role comes after its content") {
  std::string body = R"({"messages":[{"content":"RESULT","role":"tool"}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(only(b, "RESULT").layer == Layer::kToolCall);
}

TEST_CASE("a repeated or escaped key cannot hide messages from extraction") {
  std::string body = R"({"messages":[{"role":"user","content":"first"}],)"
                     R"("mess\u0061ges":[{"role":"user","content":"second"}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(find(b, "first").size() == 1);
  CHECK(find(b, "second").size() == 1);
  CHECK(b.conversation == "user: first\nuser: second\n");
}

TEST_CASE("unknown fields of a known dialect are still scanned as body text") {
  std::string body = R"({"messages":[],"user":"SIDE-CHANNEL","metadata":{"k":["deep"]}})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(only(b, "SIDE-CHANNEL").layer == Layer::kPreTemplate);
  CHECK(find(b, "deep").size() == 1);
}

TEST_CASE("anthropic messages: system, text blocks, tool_use input and tool_result content") {
  std::string body =
      R"({"model":"claude-x","max_tokens":1024,"system":[{"type":"text","text":"SYS-TEXT"}],)"
      R"("messages":[{"role":"user","content":"hello"},)"
      R"({"role":"assistant","content":[{"type":"text","text":"EARLIER"},)"
      R"({"type":"tool_use","id":"t1","name":"lookup","input":{"q":"INPUT-SECRET"}}]},)"
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t1",)"
      R"("content":[{"type":"text","text":"RESULT-SECRET"}]},)"
      R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"BINARYDATA"}}]}],)"
      R"("tools":[{"name":"lookup","description":"DESC","input_schema":{"type":"object"}}]})";
  auto b = extract_request({Dialect::kAnthropic, Endpoint::kMessages}, body);
  REQUIRE(b.parsed);
  CHECK(b.model == "claude-x");
  CHECK(*b.max_tokens == 1024);
  CHECK(only(b, "SYS-TEXT").layer == Layer::kPreTemplate);
  CHECK(only(b, "EARLIER").layer == Layer::kPreTemplate);
  CHECK(only(b, "INPUT-SECRET").layer == Layer::kToolCall);
  CHECK(only(b, "INPUT-SECRET").span_kind == SpanKind::kJsonValue);
  CHECK(only(b, "RESULT-SECRET").layer == Layer::kToolCall);
  CHECK(only(b, "DESC").layer == Layer::kToolCall);
  CHECK(find(b, "BINARYDATA").empty());
  CHECK(b.tools_called == std::vector<std::string>{"lookup"});
  CHECK(b.tools_defined == std::vector<std::string>{"lookup"});
  // The top-level system prompt leads the conversation.
  CHECK(b.conversation.rfind("system: SYS-TEXT\n", 0) == 0);
}

TEST_CASE("anthropic plain-text document sources are text, base64 sources are not") {
  std::string body = R"({"messages":[{"role":"user","content":[{"type":"document","source":)"
                     R"({"data":"DOC-TEXT","type":"text","media_type":"text/plain"}}]}]})";
  auto b = extract_request({Dialect::kAnthropic, Endpoint::kMessages}, body);
  REQUIRE(b.parsed);
  CHECK(only(b, "DOC-TEXT").layer == Layer::kPreTemplate);
}

TEST_CASE("ollama chat and generate: messages, prompt, system and num_predict") {
  std::string chat_body =
      R"({"model":"llama3","messages":[{"role":"user","content":"HI","images":["QUJD"]},)"
      R"({"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":{"a":"ARG"}}}]}],)"
      R"("options":{"num_predict":64,"temperature":0.1}})";
  auto c = extract_request({Dialect::kOllama, Endpoint::kOllamaChat}, chat_body);
  REQUIRE(c.parsed);
  CHECK(only(c, "HI").layer == Layer::kPreTemplate);
  CHECK(only(c, "ARG").layer == Layer::kToolCall);
  CHECK(find(c, "QUJD").empty());
  CHECK(*c.max_tokens == 64);
  std::string gen = R"({"model":"llama3","prompt":"PROMPT","system":"SYSTEM"})";
  auto g = extract_request({Dialect::kOllama, Endpoint::kOllamaGenerate}, gen);
  REQUIRE(g.parsed);
  CHECK(g.conversation == "system: SYSTEM\nuser: PROMPT\n");
}

TEST_CASE("openai completions, embeddings and responses inputs are extracted") {
  auto c = extract_request({Dialect::kOpenAI, Endpoint::kCompletions},
                           R"({"prompt":["A-ONE","A-TWO"],"max_tokens":5})");
  REQUIRE(c.parsed);
  CHECK(find(c, "A-ONE").size() == 1);
  CHECK(find(c, "A-TWO").size() == 1);
  auto e = extract_request({Dialect::kOpenAI, Endpoint::kEmbeddings}, R"({"input":"EMBED"})");
  CHECK(only(e, "EMBED").layer == Layer::kPreTemplate);
  auto r = extract_request(
      {Dialect::kOpenAI, Endpoint::kResponses},
      R"({"instructions":"INSTR","max_output_tokens":9,"input":[{"role":"user","content":)"
      R"([{"type":"input_text","text":"ASK"}]},{"type":"function_call","name":"f","arguments":"ARGS"},)"
      R"({"type":"function_call_output","call_id":"x","output":"OUT"}]})");
  REQUIRE(r.parsed);
  CHECK(*r.max_tokens == 9);
  CHECK(only(r, "ASK").layer == Layer::kPreTemplate);
  CHECK(only(r, "ARGS").layer == Layer::kToolCall);
  CHECK(only(r, "OUT").layer == Layer::kToolCall);
  CHECK(r.tools_called == std::vector<std::string>{"f"});
  CHECK(r.conversation.rfind("system: INSTR\n", 0) == 0);
}

TEST_CASE("generic JSON: every string value is a pre-template piece, keys one piece of their own") {
  auto b = extract_request({Dialect::kGeneric, Endpoint::kUnknown},
                           R"({"KEYNAME":["v1",{"x":"v2"}],"n":1.5,"t":true,"z":null})");
  REQUIRE(b.parsed);
  // The keys piece (not rewritable: span kind none), not a value piece.
  CHECK(only(b, "KEYNAME").span_kind == SpanKind::kNone);
  CHECK(find(b, "v1").size() == 1);
  CHECK(find(b, "v2").size() == 1);
  CHECK(b.conversation.empty());
}

TEST_CASE("a known dialect whose JSON does not parse is scanned as raw bytes") {
  for (std::string body : {std::string(R"({"messages":[{"role":"user","content":"SECRET")"),
                           std::string(R"({"messages":[]} trailing SECRET)"),
                           std::string("not json at all SECRET"), std::string(R"(["SECRET"])"),
                           std::string(R"({"messages":[{"role":"user","content":"x"}],"n":tru})"
                                       R"( SECRET)"),
                           std::string("\"SECRET\"")}) {
    INFO(body);
    auto b = extract_request(chat(), body);
    CHECK_FALSE(b.parsed);
    REQUIRE(b.pieces.size() == 1);
    CHECK(b.pieces[0].raw);
    CHECK(b.pieces[0].text == body);
  }
}

TEST_CASE("a non-JSON generic body is scanned as raw bytes") {
  auto b = extract_request({Dialect::kGeneric, Endpoint::kUnknown}, "plain DE89 text");
  CHECK_FALSE(b.parsed);
  REQUIRE(b.pieces.size() == 1);
  CHECK(b.pieces[0].raw);
}

TEST_CASE("invalid UTF-8 inside a string falls back to raw bytes") {
  std::string body = "{\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}";
  auto b = extract_request(chat(), body);
  CHECK_FALSE(b.parsed);
}

TEST_CASE("buffered responses: openai message, tool calls and anthropic content blocks") {
  auto o = extract_response(
      chat(),
      R"({"id":"chatcmpl-AKIAIOSFODNN7EXAMPLE","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":"ANSWER","tool_calls":[{"id":"c","type":"function","function":)"
      R"({"name":"f","arguments":"{\"k\":\"CALLARG\"}"}}]}}],"usage":{"total_tokens":3}})");
  REQUIRE(o.parsed);
  CHECK(only(o, "ANSWER").layer == Layer::kPreTemplate);
  CHECK(only(o, "CALLARG").layer == Layer::kToolCall);
  // Ids are not model output.
  CHECK(find(o, "AKIA").empty());
  auto a = extract_response({Dialect::kAnthropic, Endpoint::kMessages},
                            R"({"id":"msg_1","content":[{"type":"text","text":"HELLO"},)"
                            R"({"type":"tool_use","id":"t","name":"f","input":{"x":"IN"}}]})");
  REQUIRE(a.parsed);
  CHECK(only(a, "HELLO").layer == Layer::kPreTemplate);
  CHECK(only(a, "IN").layer == Layer::kToolCall);
  auto g = extract_response({Dialect::kOllama, Endpoint::kOllamaGenerate},
                            R"({"model":"m","response":"GEN","done":true})");
  CHECK(only(g, "GEN").layer == Layer::kPreTemplate);
}

TEST_CASE("url pieces are percent-decoded and header pieces skip credentials") {
  auto u = extract_url("/v1/x?q=DE89%203704+0044");
  CHECK(u.matched_in == MatchedIn::kUrl);
  CHECK(u.text == "/v1/x?q=DE89 3704 0044");
  edgeward::http::Headers h;
  h.add("Authorization", "Bearer sk-CANARY");
  h.add("x-api-key", "sk-ant-CANARY");
  h.add("Cookie", "s=CANARY");
  h.add("X-Note", "visible");
  auto pieces = extract_headers(h);
  REQUIRE(pieces.size() == 1);
  CHECK(pieces[0].text == "visible");
  CHECK(pieces[0].matched_in == MatchedIn::kHeaders);
}

TEST_CASE("string spans end at the closing quote whatever whitespace or escapes surround it") {
  // Whitespace of every JSON kind after values, and literals that end in an escaped quote, an
  // escaped backslash or both: each span is exactly the literal, quotes included.
  const std::string body =
      "{ \"messages\" :\t[ {\"role\":\"system\" , \"content\" : "
      "\"ends in quote \\\"\" \r\n } ,\n"
      "{\"role\":\"user\",\"content\":\"ends in backslash \\\\\"\t\t},"
      "{\"role\":\"user\",\"content\":\"both \\\\\\\"\"},"
      "{\"role\":\"user\",\"content\":\"plain\"   }\n ] \n}  \n";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  auto literal = [&](const TextPiece& p) {
    REQUIRE(p.span_kind == SpanKind::kJsonString);
    return body.substr(p.span_begin, p.span_end - p.span_begin);
  };
  CHECK(only(b, "ends in quote").text == "ends in quote \"");
  CHECK(literal(only(b, "ends in quote")) == R"("ends in quote \"")");
  CHECK(only(b, "ends in backslash").text == "ends in backslash \\");
  CHECK(literal(only(b, "ends in backslash")) == R"("ends in backslash \\")");
  CHECK(only(b, "both").text == "both \\\"");
  CHECK(literal(only(b, "both")) == R"("both \\\"")");
  CHECK(literal(only(b, "plain")) == R"("plain")");
}

TEST_CASE("json_string_literal_length reads a raw token's literal without its whitespace") {
  // simdjson's raw token: the literal and the whitespace up to the next token.
  CHECK(json_string_literal_length(R"("abc")") == 5);
  CHECK(json_string_literal_length("\"abc\" \t\r\n") == 5);
  CHECK(json_string_literal_length(R"("a\"b\"")") == 8);
  CHECK(json_string_literal_length(R"("a\\")") == 5);
  CHECK(json_string_literal_length(R"("ab " )") == 5);
  CHECK(json_string_literal_length(R"("")") == 2);
  // No closing quote (not a validated string): the whole token.
  CHECK(json_string_literal_length(R"("unterminated)") == 13);
  CHECK(json_string_literal_length(R"("ends escaped\")") == 15);
}

TEST_CASE("texts without escapes are views into the body, escaped ones are held by their piece") {
  const std::string body = R"({"messages":[{"role":"system","content":"plain system text"},)"
                           R"({"role":"user","content":"line one\nline \"two\""}],)"
                           R"("tools":[{"name":"pay","parameters":{"type":"object"}}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  auto inside_body = [&](std::string_view t) {
    return t.data() >= body.data() && t.data() + t.size() <= body.data() + body.size();
  };
  const TextPiece& plain = only(b, "plain system");
  CHECK(plain.text == "plain system text");
  CHECK(inside_body(plain.text));
  CHECK_FALSE(plain.owns_text());
  const TextPiece& escaped = only(b, "line one");
  CHECK(escaped.text == "line one\nline \"two\"");
  CHECK(escaped.owns_text());
  const TextPiece& schema = only(b, "object");
  CHECK(schema.text == R"({"type":"object"})");
  CHECK(inside_body(schema.text));
  CHECK(b.conversation == "system: plain system text\nuser: line one\nline \"two\"\n");

  // Copies and moves keep an owned text valid, short (in-object) strings included.
  TextPiece small;
  small.own("short");
  TextPiece moved(std::move(small));
  TextPiece copied(moved);
  std::vector<TextPiece> grown;
  for (int i = 0; i < 20; ++i) grown.push_back(moved);  // reallocations move the pieces
  CHECK(moved.text == "short");
  CHECK(copied.text == "short");
  CHECK(copied.text.data() != moved.text.data());
  for (const TextPiece& p : grown) CHECK(p.text == "short");
}

TEST_CASE("a body with padding after it is parsed in place, with the same pieces as a copy") {
  std::string buffer = R"({"model":"m","messages":[{"role":"user","content":"a \u0041 b"},)"
                       R"({"role":"assistant","content":"DE89 3704"}]})";
  const std::size_t size = buffer.size();
  buffer.reserve(size + kJsonPadding);
  const std::string_view body(buffer.data(), size);
  auto in_place = extract_request(chat(), body, buffer.capacity() - size);
  const std::string unpadded(body);
  auto copied = extract_request(chat(), unpadded);  // no padding: parsed from a copy
  REQUIRE(in_place.parsed);
  REQUIRE(copied.parsed);
  CHECK(in_place.conversation == copied.conversation);
  REQUIRE(in_place.pieces.size() == copied.pieces.size());
  for (std::size_t i = 0; i < in_place.pieces.size(); ++i) {
    CHECK(in_place.pieces[i].text == copied.pieces[i].text);
    CHECK(in_place.pieces[i].span_begin == copied.pieces[i].span_begin);
    CHECK(in_place.pieces[i].span_end == copied.pieces[i].span_end);
  }
  CHECK(only(in_place, "DE89").text.data() == body.data() + body.find("DE89"));
  CHECK(only(in_place, "a A b").owns_text());
}

TEST_CASE("an undecoded url is a view of the target, a decoded one is held by the piece") {
  const std::string target = "/v1/chat/completions?x=1";
  auto u = extract_url(target);
  CHECK(u.text == target);
  CHECK(u.text.data() == target.data());
  auto d = extract_url("/v1/x?q=a+b%21");
  CHECK(d.text == "/v1/x?q=a b!");
  CHECK(d.owns_text());
}

TEST_CASE("extracting into a reused ExtractedBody gives what a fresh one gives") {
  const std::string first = R"({"model":"m1","max_tokens":5,"messages":[{"role":"system",)"
                            R"("content":"alpha"},{"role":"user","content":"beta \"q\""}],)"
                            R"("tools":[{"name":"t1","parameters":{}}]})";
  const std::string broken = R"({"messages":[)";
  const std::string second = R"({"messages":[{"role":"user","content":"gamma"}]})";
  ExtractedBody reused;
  for (const std::string* body : {&first, &broken, &second}) {
    extract_request(chat(), *body, 0, reused);
    ExtractedBody fresh = extract_request(chat(), *body);
    CHECK(reused.parsed == fresh.parsed);
    CHECK(reused.model == fresh.model);
    CHECK(reused.max_tokens == fresh.max_tokens);
    CHECK(reused.tools_defined == fresh.tools_defined);
    CHECK(reused.conversation == fresh.conversation);
    CHECK(reused.segments.size() == fresh.segments.size());
    REQUIRE(reused.pieces.size() == fresh.pieces.size());
    for (std::size_t i = 0; i < fresh.pieces.size(); ++i) {
      CHECK(reused.pieces[i].text == fresh.pieces[i].text);
      CHECK(reused.pieces[i].raw == fresh.pieces[i].raw);
    }
  }
  // Buffers are kept for the next body, unless they grew past the bound.
  clear_for_reuse(reused);
  CHECK(reused.pieces.empty());
  CHECK(reused.conversation.empty());
  reused.conversation.assign(4096, 'x');
  clear_for_reuse(reused, 1024);
  CHECK(reused.conversation.capacity() < 4096);
  reused.conversation.assign(512, 'x');
  clear_for_reuse(reused, 1024);
  CHECK(reused.conversation.capacity() >= 512);
}

TEST_CASE("a body simdjson refuses is one raw piece, plus its decoded copy when it has escapes") {
  auto plain = extract_request(chat(), R"({"messages": [)");
  CHECK_FALSE(plain.parsed);
  REQUIRE(plain.pieces.size() == 1);
  CHECK(plain.pieces[0].raw);
  auto escaped = extract_request(chat(), "{\"messages\":[{\"content\":\"\\u0044E89\\ud800\"}]}");
  CHECK_FALSE(escaped.parsed);
  REQUIRE(escaped.pieces.size() == 2);
  CHECK(escaped.pieces[1].raw);
  CHECK(escaped.pieces[1].text.find("\"DE89\xEF\xBF\xBD\"") != std::string_view::npos);
}

TEST_CASE("nesting up to the walker's depth parses and deeper is raw") {
  auto nest = [](int levels) {
    std::string v;
    for (int i = 0; i < levels; ++i) v += "[";
    v += "\"deep text\"";
    for (int i = 0; i < levels; ++i) v += "]";
    return R"({"messages":[{"role":"user","content":"hi"}],"metadata":)" + v + "}";
  };
  // The pieces are views into the body: it must outlive them.
  const std::string shallow_body = nest(100);
  auto ok = extract_request(chat(), shallow_body);
  CHECK(ok.parsed);
  CHECK(find(ok, "deep text").size() == 1);
  const std::string deep_body = nest(5000);
  auto deep = extract_request(chat(), deep_body);
  CHECK_FALSE(deep.parsed);
}

TEST_CASE("each text part of a message is its own line of the conversation") {
  // Parts are not run together in the conversation: "key AKIA…" followed by a part "summarize"
  // must not become "AKIA…summarize", where no word boundary ends the key (a review found that
  // evasion in a trial of joining parts). A secret split across two parts is found in the
  // glued text instead (docs/dialects.md).
  std::string body =
      R"({"messages":[{"role":"user","content":[{"type":"text","text":"key A"},)"
      R"({"type":"text","text":"summarize"}]},{"role":"assistant","content":"ok"}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(b.conversation == "user: key A\nuser: summarize\nassistant: ok\n");
  // Glued apart, where only what crosses a part's edge counts (exchange.cpp).
  CHECK(b.glued == "key Asummarize\n");
  REQUIRE(b.glued_segments.size() == 2);
  CHECK(b.glued_segments[1].offset == 5);
  CHECK(b.pieces[b.glued_segments[1].piece].text == "summarize");
}

TEST_CASE("only messages with two or more text parts are glued") {
  std::string body = R"({"messages":[{"role":"user","content":"one"},)"
                     R"({"role":"user","content":[{"type":"text","text":"two"}]},)"
                     R"({"role":"user","content":[{"type":"text","text":"a"},)"
                     R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},)"
                     R"({"type":"text","text":"b"}]}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(b.glued.find("one") == std::string::npos);
  CHECK(b.glued.find("two") == std::string::npos);
  CHECK(b.glued.find('a') == 0);
  CHECK(b.glued.back() == '\n');
}

TEST_CASE("URLs and file names of binary fields are text, data URIs and base64 are not") {
  std::string body =
      R"({"messages":[{"role":"user","content":[)"
      R"({"type":"image_url","image_url":{"url":"https://a.example/p.png?k=SECRET1","detail":"high"}},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,SECRET2"}},)"
      R"({"type":"file","file":{"file_data":"SECRET3","filename":"SECRET4.pdf"}},)"
      R"({"type":"input_image","image_url":"https://b.example/SECRET5"},)"
      R"({"type":"input_audio","input_audio":{"data":"SECRET6","format":"wav"}}]}]})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  CHECK(find(b, "SECRET1").size() == 1);
  CHECK(find(b, "SECRET2").empty());
  CHECK(find(b, "SECRET3").empty());
  CHECK(find(b, "SECRET4").size() == 1);
  CHECK(find(b, "SECRET5").size() == 1);
  CHECK(find(b, "SECRET6").empty());
}

TEST_CASE("object keys of generically walked fields are one piece of their own") {
  std::string body = R"({"messages":[{"role":"user","content":"hi"}],)"
                     R"("metadata":{"KEYSECRET":"v","nested":{"k2":1}}})";
  auto b = extract_request(chat(), body);
  REQUIRE(b.parsed);
  const TextPiece& keys = only(b, "KEYSECRET");
  CHECK(keys.text == "KEYSECRET\nnested\nk2\n");
  CHECK(keys.span_kind == SpanKind::kNone);  // a redact finding there blocks
}

TEST_CASE("an Anthropic content document source is read like a message") {
  std::string body = R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[)"
                     R"({"type":"document","source":{"type":"content","content":[)"
                     R"({"type":"text","text":"DOCSECRET"}]}}]}]})";
  auto b = extract_request({Dialect::kAnthropic, Endpoint::kMessages}, body);
  REQUIRE(b.parsed);
  CHECK(find(b, "DOCSECRET").size() == 1);
}

TEST_CASE("unknown field names at the top and in messages join the keys piece, known ones do not") {
  auto plain = extract_request(
      chat(), R"({"model":"m","stream":true,"temperature":0.2,"messages":[{"role":"user",)"
              R"("content":"hi"}]})");
  REQUIRE(plain.parsed);
  CHECK(find(plain, "stream").empty());  // no keys piece: no extra scan for common requests
  auto odd = extract_request(chat(), R"({"model":"m","TOPKEY":1,"messages":[{"role":"user",)"
                                     R"("content":"hi","MSGKEY":"x"}]})");
  REQUIRE(odd.parsed);
  CHECK(only(odd, "TOPKEY").text == "TOPKEY\nMSGKEY\n");
}
