#include "daemon/inspect/stream_inspector.hpp"

#include <simdjson.h>

#include <cctype>
#include <cstdlib>
#include <random>

#include "core/json.hpp"
#include "daemon/inspect/stream_events.hpp"
#include "inspect_fixtures.hpp"
#include "rules/redaction.hpp"

using namespace edgeward;
using namespace edgeward::inspect;
using namespace inspect_test;

namespace {

// Redact-only rules whose matches overlap ("sk-test-…" contains "test-…"), so merging is
// exercised, plus one with a space inside.
constexpr const char* kRedactPack = R"(apiVersion: edgeward/v1
kind: RulePack
name: redact
rules:
  - id: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
    name: key
    reason_code: DLP.SECRET.OPENAI_API_KEY
    action: redact
    detect:
      patterns: ['sk-test-[a-z0-9]{12}']
  - id: bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
    name: short
    reason_code: POLICY.CUSTOM
    action: redact
    priority: 120
    detect:
      patterns: ['test-[a-z0-9]{4}']
  - id: cccccccc-cccc-4ccc-8ccc-cccccccccccc
    name: card
    reason_code: DLP.PII.CREDIT_CARD
    action: redact
    detect:
      patterns: ['card [0-9]{4} [0-9]{4}']
)";

// A redact rule whose matches grow, and one that needs a context word after its match.
constexpr const char* kContinuePack = R"(apiVersion: edgeward/v1
kind: RulePack
name: continue
rules:
  - id: dddddddd-dddd-4ddd-8ddd-dddddddddddd
    name: grows
    reason_code: DLP.SECRET.PASSWORD_ASSIGNMENT
    action: redact
    detect:
      patterns: ['secret-[a-z0-9]{4,20}']
  - id: eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee
    name: needs a later word
    reason_code: DLP.SECRET.PASSWORD_ASSIGNMENT
    action: redact
    detect:
      patterns: ['code-[0-9]{4}']
      context: { words: [wifi], within: 40, required: true }
)";

std::string sse_chunk(std::string_view text) {
  std::string data = R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,)"
                     R"("delta":{"content":)";
  json::append_json_string(data, text);
  data += R"(},"finish_reason":null}]})";
  return "data: " + data + "\n\n";
}

std::string sse_finish();

// `text` as two content deltas cut at `cut`, then the stream's end.
std::vector<std::string> two_deltas(std::string_view text, std::size_t cut) {
  return {sse_chunk(text.substr(0, cut)), sse_chunk(text.substr(cut)), sse_finish()};
}

std::string sse_finish() {
  return "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}"
         "\n\ndata: [DONE]\n\n";
}

// Calls fn(choice) for every choice of every OpenAI event in an SSE byte stream; sets `error`
// when an error event is present.
template <class Fn>
void for_each_choice(const std::string& sse, bool* error, Fn&& fn) {
  SseParser p;
  std::vector<SseEvent> events;
  REQUIRE(p.feed(sse, events).ok());
  REQUIRE(p.finish(events).ok());
  simdjson::dom::parser parser;
  for (const SseEvent& e : events) {
    if (!e.has_data || e.data == "[DONE]") continue;
    simdjson::dom::element doc;
    REQUIRE_FALSE(parser.parse(e.data).get(doc));
    if (doc["error"].error() == simdjson::SUCCESS || e.event == "error") {
      if (error) *error = true;
      continue;
    }
    simdjson::dom::array choices;
    if (doc["choices"].get(choices)) continue;
    for (simdjson::dom::element c : choices) fn(c);
  }
}

// The content text of every OpenAI delta in an SSE byte stream, joined.
std::string joined_content(const std::string& sse, bool* error = nullptr) {
  std::string out;
  for_each_choice(sse, error, [&](simdjson::dom::element c) {
    std::string_view s;
    if (!c["delta"]["content"].get(s)) out.append(s);
  });
  return out;
}

struct StreamRun {
  std::string out;
  bool ended = false;
  std::vector<store::Event> events;
};

StreamRun run_stream(std::shared_ptr<const rules::CompiledRules> rules, Route route,
                     StreamFormat format, const std::vector<std::string>& chunks,
                     std::size_t holdback = 128) {
  ExchangeFacts f = facts(route);
  EventRecorder rec(f);
  StreamInspector s(std::move(rules), scanner(), route, format, holdback, rec);
  StreamRun r;
  for (const std::string& c : chunks) {
    if (s.feed(c, r.out) == StreamStep::kEnd) {
      r.ended = true;
      break;
    }
  }
  if (!r.ended) r.ended = s.finish(r.out) == StreamStep::kEnd;
  r.events = rec.take();
  return r;
}

// `text` cut into pieces of next_len() bytes each, every cut moved forward to a code point
// boundary (a JSON string cannot carry half a character). Before `stop_at` is passed, no piece
// reaches past it, so a caller can put an event of its own there.
template <class NextLen>
std::vector<std::string> code_point_pieces(std::string_view text, NextLen&& next_len,
                                           std::size_t stop_at = std::string_view::npos) {
  std::vector<std::string> pieces;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + next_len());
    if (pos < stop_at && end > stop_at) end = stop_at;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    pieces.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace

TEST_CASE("blocks an AWS key split across two SSE deltas and ends the stream with one error") {
  std::vector<std::string> chunks = {sse_chunk("Here is the key: AKIAQWERTY"),
                                     sse_chunk("UIOPASDFGH and more"), sse_finish()};
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
  CHECK(r.ended);
  CHECK(r.out.find("AKIA") == std::string::npos);  // held back, then dropped with the stream
  bool error = false;
  joined_content(r.out, &error);
  CHECK(error);
  CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  CHECK(r.out.find("[DONE]") == std::string::npos);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].scope == store::Scope::kResponse);
  CHECK(r.events[0].action == store::Action::kBlock);
}

TEST_CASE("an IBAN split across deltas at every byte boundary is found") {
  std::string text = std::string("pay ") + kIban + " now";
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    INFO(cut);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
    CHECK(r.ended);
    CHECK(r.out.find("3704") == std::string::npos);
  }
}

TEST_CASE("finds an AWS key in an Anthropic input_json_delta") {
  auto delta = [](std::string_view partial) {
    std::string data =
        R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":)";
    json::append_json_string(data, partial);
    data += "}}";
    return "event: content_block_delta\ndata: " + data + "\n\n";
  };
  std::vector<std::string> chunks = {
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
      "\"content\":[]}}\n\n",
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
      "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"lookup\",\"input\":{}}}"
      "\n\n",
      delta("{\"key\": \"AKIAQWER"), delta("TYUIOPASDFGH\"}"),
      "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"};
  auto r = run_stream(test_rules(), anthropic_messages(), StreamFormat::kSse, chunks);
  CHECK(r.ended);
  CHECK(r.out.find(
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"permission_error\"") !=
        std::string::npos);
  CHECK(r.out.find("AKIA") == std::string::npos);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].layer == store::Layer::kToolCall);
  CHECK(r.events[0].matched_in == store::MatchedIn::kTools);
}

TEST_CASE("a tool the rules do not allow, called in a streamed response, ends the stream") {
  std::vector<std::string> chunks = {
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
      "\"type\":\"function\",\"function\":{\"name\":\"rm_rf\",\"arguments\":\"\"}}]}}]}\n\n"};
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
  CHECK(r.ended);
  CHECK(r.out.find("POLICY.TOOL_DENIED") != std::string::npos);
}

std::string tool_chunk(std::string_view name, std::string_view arguments, int index = 0) {
  std::string fn = "{";
  if (!name.empty()) {
    fn += "\"name\":";
    json::append_json_string(fn, name);
    fn += ",";
  }
  fn += "\"arguments\":";
  json::append_json_string(fn, arguments);
  fn += "}";
  return "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":" +
         std::to_string(index) + ",\"function\":" + fn + "}]}}]}\n\n";
}

TEST_CASE("a tool name streamed in pieces is judged whole: allowed pieces of a denied name") {
  // "pay" and "lookup" are allowed; the call the client assembles, "paylookup", is not.
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {tool_chunk("pay", ""), tool_chunk("lookup", ""),
                       tool_chunk("", "{\"to\":\"x\"}"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find("POLICY.TOOL_DENIED") != std::string::npos);
  CHECK(r.out.find("\\\"to\\\"") == std::string::npos);  // its arguments never left
}

TEST_CASE("a tool name streamed in pieces is judged whole: denied pieces of an allowed name") {
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {tool_chunk("look", ""), tool_chunk("up", ""), tool_chunk("", "{}"),
                       tool_chunk("web_", "", 1), tool_chunk("search", "{}", 1), sse_finish()});
  CHECK_FALSE(r.ended);
  CHECK(r.out.find("POLICY.TOOL_DENIED") == std::string::npos);
  CHECK(r.out.find("[DONE]") != std::string::npos);
}

TEST_CASE("a denied tool's arguments never leave: its name is judged when they start") {
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {tool_chunk("rm_rf", ""), tool_chunk("", "{\"path\":\"/\"}")});
  CHECK(r.ended);
  CHECK(r.out.find("POLICY.TOOL_DENIED") != std::string::npos);
  CHECK(r.out.find("path") == std::string::npos);
}

TEST_CASE("a denied tool name completed by a later call of its choice is judged then") {
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {tool_chunk("rm_", ""), tool_chunk("rf", ""), tool_chunk("lookup", "", 1)});
  CHECK(r.ended);
  CHECK(r.out.find("POLICY.TOOL_DENIED") != std::string::npos);
  CHECK(r.out.find("lookup") == std::string::npos);
}

TEST_CASE("a tool name longer than any provider allows ends the stream as unparseable") {
  std::vector<std::string> chunks;
  for (int i = 0; i < 40; ++i) chunks.push_back(tool_chunk(std::string(32, 'a'), ""));
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
  CHECK(r.ended);
  CHECK(r.out.find("unparseable stream") != std::string::npos);
}

TEST_CASE("a key in an SSE comment or id or unknown field or event name ends the stream") {
  const std::string key = kAwsKey;
  for (const std::string& line :
       {": note " + key, "id: " + key, "x-debug: " + key, "X-" + key + ": 1", "event: x-" + key}) {
    INFO(line);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {sse_chunk("hello "), line + "\ndata: {\"choices\":[]}\n\n", sse_finish()});
    CHECK(r.ended);
    CHECK(r.out.find(key) == std::string::npos);
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].reason_code == "DLP.SECRET.AWS_ACCESS_KEY");
  }
  // What providers send there passes untouched.
  const std::string plain =
      ": ping\n\nevent: content_block_delta\nid: 42\nretry: 3000\n"
      "data: {\"choices\":[]}\n\n";
  auto ok = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {plain, sse_finish()});
  CHECK_FALSE(ok.ended);
  CHECK(ok.out.find(plain) == 0);
}

TEST_CASE("a redacted event sent in several data lines is rewritten as valid data lines") {
  // The delta's JSON spread over three `data` lines, with an id and a retry line.
  const std::string event =
      "id: 7\nretry: 1000\ndata: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":"
      "\"card 4111 1111 1111 1111 and more text after it to flush\"}\ndata: }]}\n\n";
  const std::vector<std::string> chunks = {event, sse_finish()};
  auto r = run_stream(compiled(kRedactPack), openai_chat(), StreamFormat::kSse, chunks, 0);
  CHECK_FALSE(r.ended);
  CHECK(r.out.find("4111 1111") == std::string::npos);
  CHECK(r.out.find("id: 7\nretry: 1000\n") == 0);
  // Every line of the rewritten event is a field line: nothing a client would drop or choke on.
  const std::string first = r.out.substr(0, r.out.find("\n\n"));
  std::size_t start = 0;
  std::string joined;
  while (start < first.size()) {
    std::size_t nl = first.find('\n', start);
    std::string line =
        first.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    CHECK((line.rfind("id: ", 0) == 0 || line.rfind("retry: ", 0) == 0 ||
           line.rfind("data: ", 0) == 0));
    if (line.rfind("data: ", 0) == 0) joined += line.substr(6) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  simdjson::dom::parser p;
  simdjson::dom::element e;
  CHECK_FALSE(p.parse(joined).get(e));
}

TEST_CASE("an unparseable SSE payload ends the stream instead of passing it") {
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {sse_chunk("fine"), "data: {not json\n\n", sse_chunk("never")});
  CHECK(r.ended);
  CHECK(r.out.find("never") == std::string::npos);
  CHECK(r.out.find("unparseable stream") != std::string::npos);
}

TEST_CASE("pings and comments pass at once, held text is flushed before finish_reason") {
  auto r = run_stream(compiled(kRedactPack), openai_chat(), StreamFormat::kSse,
                      {": keep-alive\n\n", sse_chunk("hello "), sse_chunk("world"), sse_finish()});
  CHECK_FALSE(r.ended);
  CHECK(r.out.rfind(": keep-alive\n\n", 0) == 0);
  CHECK(joined_content(r.out) == "hello world");
  // The text comes before the finish_reason chunk and [DONE].
  CHECK(r.out.find("world") < r.out.find("\"finish_reason\":\"stop\""));
  CHECK(r.out.ends_with("data: [DONE]\n\n"));
}

TEST_CASE("redact rewrites a secret split across deltas before it leaves") {
  auto r = run_stream(compiled(kRedactPack), openai_chat(), StreamFormat::kSse,
                      {sse_chunk("my key sk-te"), sse_chunk("st-abcdef123456 ok"), sse_finish()});
  CHECK_FALSE(r.ended);
  CHECK(joined_content(r.out) == "my key [REDACTED:DLP.SECRET.OPENAI_API_KEY] ok");
  CHECK(r.out.find("abcdef") == std::string::npos);
  REQUIRE(r.events.size() >= 1);
  CHECK(r.events[0].action == store::Action::kRedact);
}

TEST_CASE("a redact match longer than the hold-back ends the stream instead of leaking its start") {
  // Hold-back of 8 bytes; the key is 20 bytes and arrives 4 bytes a delta, so its beginning
  // must leave before the match is complete.
  std::vector<std::string> chunks = {sse_chunk("my key ")};
  std::string key = "sk-test-abcdef123456";
  for (std::size_t i = 0; i < key.size(); i += 4) chunks.push_back(sse_chunk(key.substr(i, 4)));
  chunks.push_back(sse_chunk(" and the rest of the answer"));
  chunks.push_back(sse_finish());
  // One rule: with the pack's overlapping "test-…" rule, its candidate (a whole match waiting
  // for a longer end) would hold the text from its start, which is the point of the next test.
  constexpr const char* kKeyOnly = R"(apiVersion: edgeward/v1
kind: RulePack
name: key-only
rules:
  - id: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
    name: key
    reason_code: DLP.SECRET.OPENAI_API_KEY
    action: redact
    detect:
      patterns: ['sk-test-[a-z0-9]{12}']
)";
  auto r = run_stream(compiled(kKeyOnly), openai_chat(), StreamFormat::kSse, chunks, 8);
  CHECK(r.ended);
  bool error = false;
  std::string text = joined_content(r.out, &error);
  CHECK(error);
  // What left is a prefix of the text before the match completed, never redacted as if whole.
  CHECK(text.find("[REDACTED") == std::string::npos);
  CHECK(text.find("123456") == std::string::npos);
  CHECK(r.out.find("the rest") == std::string::npos);
  REQUIRE_FALSE(r.events.empty());
  CHECK(r.events[0].action == store::Action::kBlock);
  // Within the hold-back the same key is redacted and the stream goes on.
  auto held = run_stream(compiled(kKeyOnly), openai_chat(), StreamFormat::kSse, chunks, 64);
  CHECK_FALSE(held.ended);
  CHECK(joined_content(held.out) ==
        "my key [REDACTED:DLP.SECRET.OPENAI_API_KEY] and the rest of the answer");
}

TEST_CASE("a whole candidate waiting for its context word is held past the hold-back cap") {
  // "code-1234" needs "wifi" within 40 bytes after it; with a hold-back of 8 the cap used to
  // release it before the word came, and the stream then ended with the value already out.
  std::vector<std::string> chunks = {sse_chunk("use code-1234 ")};
  for (const char* part : {"for ", "the ", "guest ", "wifi ", "network"}) {
    chunks.push_back(sse_chunk(part));
  }
  chunks.push_back(sse_finish());
  auto r = run_stream(compiled(kContinuePack), openai_chat(), StreamFormat::kSse, chunks, 8);
  CHECK_FALSE(r.ended);
  CHECK(joined_content(r.out) ==
        "use [REDACTED:DLP.SECRET.PASSWORD_ASSIGNMENT] for the guest wifi network");
  // Without the word, the candidate is refused when its window has passed, and leaves as is.
  std::vector<std::string> plain = {sse_chunk("use code-1234 "),
                                    sse_chunk("for the lock on the back door of the shed"),
                                    sse_finish()};
  auto p = run_stream(compiled(kContinuePack), openai_chat(), StreamFormat::kSse, plain, 8);
  CHECK_FALSE(p.ended);
  CHECK(joined_content(p.out) == "use code-1234 for the lock on the back door of the shed");
}

TEST_CASE("generic streams find a secret split across two events of the same field") {
  Route generic{Dialect::kGeneric, Endpoint::kUnknown};
  auto event = [](std::string_view text) {
    std::string data = R"({"id":"evt-1","token":{"text":)";
    json::append_json_string(data, text);
    return "data: " + data + "}}\n\n";
  };
  auto split = run_stream(test_rules(), generic, StreamFormat::kSse,
                          {event("the key is AKIAQWERTY"), event("UIOPASDFGH ok"), event("more")});
  CHECK(split.ended);
  CHECK(split.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  CHECK(split.out.find("more") == std::string::npos);
  REQUIRE(split.events.size() == 1);
  CHECK(split.events[0].action == store::Action::kBlock);
  // A secret inside one event is still redacted in place and the stream goes on; other
  // fields (the id repeated in every event) do not join into the text's stream.
  auto whole = run_stream(compiled(kRedactPack), generic, StreamFormat::kSse,
                          {event("a sk-test-abcdef123456 b"), event("c")});
  CHECK_FALSE(whole.ended);
  CHECK(whole.out.find("abcdef123456") == std::string::npos);
  CHECK(whole.out.find("[REDACTED:DLP.SECRET.OPENAI_API_KEY]") != std::string::npos);
  CHECK(whole.out.find("\"evt-1\"") != std::string::npos);
  // NDJSON generic lines, the redact key split: its start already left, so the stream ends.
  auto lines = run_stream(compiled(kRedactPack), generic, StreamFormat::kNdjson,
                          {"{\"text\":\"x sk-test-abc\"}\n", "{\"text\":\"def123456 y\"}\n"});
  CHECK(lines.ended);
  CHECK(lines.out.find("def123456") == std::string::npos);
  CHECK(lines.out.find("\"error\"") != std::string::npos);
}

TEST_CASE("generic streams hold the last event while a match may end in it") {
  Route generic{Dialect::kGeneric, Endpoint::kUnknown};
  auto event = [](std::string_view text) {
    std::string data = R"({"token":{"text":)";
    json::append_json_string(data, text);
    return "data: " + data + "}}\n\n";
  };
  // The key's last bytes end the last event: known only at the end of the stream.
  for (bool done : {false, true}) {
    std::vector<std::string> chunks = {event("the key is AKIAQWERTY"), event("UIOPASDFGH")};
    if (done) chunks.push_back("data: [DONE]\n\n");
    auto r = run_stream(test_rules(), generic, StreamFormat::kSse, chunks);
    INFO(done);
    CHECK(r.ended);
    CHECK(r.out.find("UIOPASDFGH") == std::string::npos);
    CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  }
  // A key spread over many small events: none of its pieces leaves.
  auto spread = run_stream(test_rules(), generic, StreamFormat::kSse,
                           {event("the key is "), event("AKIA"), event("QWER"), event("TYUI"),
                            event("OPAS"), event("DFGH"), event(" and more")});
  CHECK(spread.ended);
  for (const char* piece : {"AKIA", "QWER", "TYUI", "OPAS", "DFGH"}) {
    CHECK(spread.out.find(piece) == std::string::npos);
  }
  CHECK(spread.out.find("the key is") != std::string::npos);
  // holdback_bytes 0 holds nothing: every event leaves as it comes.
  auto exact =
      run_stream(test_rules(), generic, StreamFormat::kSse, {event("hello "), event("world")}, 0);
  CHECK(exact.out == event("hello ") + event("world"));
  // Without a match every event leaves, in order and unchanged, the last one at the end.
  const std::vector<std::string> chunks = {event("hello "), event("world"), event("!"),
                                           "data: [DONE]\n\n"};
  auto ok = run_stream(test_rules(), generic, StreamFormat::kSse, chunks);
  CHECK_FALSE(ok.ended);
  CHECK(ok.out == chunks[0] + chunks[1] + chunks[2] + chunks[3]);
}

TEST_CASE("ollama NDJSON streams are inspected line by line") {
  Route route{Dialect::kOllama, Endpoint::kOllamaChat};
  auto line = [](std::string_view content, bool done) {
    std::string l = R"({"model":"m","message":{"role":"assistant","content":)";
    json::append_json_string(l, content);
    l += std::string(R"(},"done":)") + (done ? "true" : "false") + "}\n";
    return l;
  };
  auto r = run_stream(compiled(kRedactPack), route, StreamFormat::kNdjson,
                      {line("a sk-test-abcd", false), line("ef123456 b", false), line("", true)});
  CHECK_FALSE(r.ended);
  std::string joined;
  simdjson::dom::parser p;
  std::size_t start = 0;
  while (start < r.out.size()) {
    std::size_t nl = r.out.find('\n', start);
    simdjson::dom::element doc;
    REQUIRE_FALSE(p.parse(r.out.substr(start, nl - start)).get(doc));
    std::string_view s;
    if (!doc["message"]["content"].get(s)) joined.append(s);
    start = nl + 1;
  }
  CHECK(joined == "a [REDACTED:DLP.SECRET.OPENAI_API_KEY] b");
  auto blocked = run_stream(test_rules(), route, StreamFormat::kNdjson,
                            {line("key AKIAQWERTYUIOPASDFGH", false)});
  CHECK(blocked.ended);
  CHECK(blocked.out.find("{\"error\":\"blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") !=
        std::string::npos);
}

namespace {

// Characters that hide a match from the patterns (rules/text_fold.hpp) and that a property run
// puts inside secrets (a delta may end with one: deltas are cut on code point boundaries only).
const std::vector<std::string> kHidden = {"\u200b", "\u00ad", "\ufeff", "\u2060", "\u200d"};

// Random texts of words and secrets (with `hidden`: hidden characters inside the secrets),
// streamed in random deltas and network chunks: the client's joined text must equal the block
// scan's redaction of the whole text.
// How the secrets of a property run are disguised.
enum class Disguise { kNone, kHidden, kLookalike };

// The Cyrillic, Greek or Armenian letter drawn like an ASCII letter (text_fold.cpp), or "".
std::string lookalike_of(char c) {
  switch (c) {
    case 'a':
      return "\xD0\xB0";  // U+0430
    case 'c':
      return "\xD1\x81";  // U+0441
    case 'd':
      return "\xD4\x81";  // U+0501
    case 'e':
      return "\xD0\xB5";  // U+0435
    case 'i':
      return "\xD1\x96";  // U+0456
    case 'l':
      return "\xD3\x8F";  // U+04CF
    case 'o':
      return "\xCE\xBF";  // U+03BF
    case 'p':
      return "\xD1\x80";  // U+0440
    case 's':
      return "\xD1\x95";  // U+0455
    case 'u':
      return "\xD5\xBD";  // U+057D
    case 'x':
      return "\xD1\x85";  // U+0445
    case 'y':
      return "\xD1\x83";  // U+0443
    default:
      return "";
  }
}

void check_joined_equals_redact(std::uint32_t seed, Disguise disguise) {
  auto rules = compiled(kRedactPack);
  std::mt19937 rng(seed);
  const char* sanitized = std::getenv("EDGEWARD_SANITIZED_RUN");
  const int iterations = sanitized != nullptr && std::string(sanitized) == "1" ? 300 : 2000;
  std::vector<std::string> words = {"the ", "quick ", "brown ", "fox ", "é ",    "日本 ",
                                    "\n",   "\"q\" ", "test-",  "sk-",  "card ", "12 "};
  if (disguise == Disguise::kLookalike) {
    // Russian words, a word of look-alikes alone ("аӏӏ") and one glued to ASCII.
    for (const char* w :
         {"Все ", "Не ", "слово ", "\xD0\xB0\xD3\x8F\xD3\x8F ", "t\xD0\xB5st-", "\xD1\x95k-"}) {
      words.push_back(w);
    }
  }
  const bool hidden = disguise == Disguise::kHidden;
  int disguised_found = 0;  // findings whose span holds a hidden or look-alike character
  auto secret = [&](int kind) {
    const char* alnum = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    if (kind == 0) {
      s = "sk-test-";
      for (int i = 0; i < 12; ++i) s.push_back(alnum[rng() % 36]);
    } else if (kind == 1) {
      s = "test-";
      for (int i = 0; i < 4; ++i) s.push_back(alnum[rng() % 36]);
    } else {
      s = "card ";
      for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
      s.push_back(' ');
      for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
    }
    if (hidden) {
      const std::size_t n = 1 + rng() % 3;
      // Between two letters or digits, where a block scan folds them away too (a hidden
      // character next to a space or a symbol does not make a block scan look twice).
      auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
      for (std::size_t k = 0; k < n; ++k) {
        std::size_t at = 1 + rng() % (s.size() - 1);
        if (alnum(s[at - 1]) && alnum(s[at])) s.insert(at, kHidden[rng() % kHidden.size()]);
      }
    }
    if (disguise == Disguise::kLookalike) {
      // Any letter of the secret, its prefix included, 1 to 4 times.
      const std::size_t n = 1 + rng() % 4;
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t at = rng() % s.size();
        const unsigned char c = static_cast<unsigned char>(s[at]);
        if (c >= 0x80) continue;
        const std::string other = lookalike_of(static_cast<char>(c));
        if (!other.empty()) s.replace(at, 1, other);
      }
    }
    return s;
  };
  for (int it = 0; it < iterations; ++it) {
    std::string text;
    int pieces = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < pieces; ++i) {
      if (rng() % 4 == 0) {
        text += secret(static_cast<int>(rng() % 3));
      } else {
        text += words[rng() % words.size()];
      }
    }
    // The expected output: block-mode findings over the whole text, redacted.
    std::vector<rules::Finding> findings;
    REQUIRE(scanner()
                .scan(*rules, rules::Scope::response, rules::Surface::body,
                      rules::Layer::pre_template, text, findings)
                .ok());
    std::string expected = rules::redact(text, findings);
    for (const rules::Finding& f : findings) {
      const auto span = std::string_view(text).substr(static_cast<std::size_t>(f.start),
                                                      static_cast<std::size_t>(f.end - f.start));
      disguised_found += std::any_of(span.begin(), span.end(),
                                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    }

    // Random deltas (on code point boundaries: a JSON string cannot carry half a character),
    // then random network chunking of the SSE bytes (anywhere).
    std::string sse;
    for (const std::string& piece : code_point_pieces(text, [&] { return 1 + rng() % 24; })) {
      sse += sse_chunk(piece);
    }
    sse += sse_finish();
    std::vector<std::string> chunks;
    std::size_t pos = 0;
    while (pos < sse.size()) {
      std::size_t n = 1 + rng() % 200;
      chunks.push_back(sse.substr(pos, n));
      pos += n;
    }
    auto r = run_stream(rules, openai_chat(), StreamFormat::kSse, chunks);
    INFO("iteration " << it << " text: " << text << " out: " << r.out);
    REQUIRE_FALSE(r.ended);
    REQUIRE(joined_content(r.out) == expected);
  }
  // The disguised runs must exercise the folded scans, not just pass around them.
  if (disguise != Disguise::kNone) CHECK(disguised_found > iterations);
}

}  // namespace

TEST_CASE("property: the client's joined text equals redact(full text) for random chunkings") {
  check_joined_equals_redact(20261123, Disguise::kNone);
}

TEST_CASE("property: secrets with hidden characters inside are redacted in streams as in blocks") {
  check_joined_equals_redact(20261124, Disguise::kHidden);
}

TEST_CASE(
    "property: secrets spelled with look-alike letters are redacted in streams as in blocks") {
  check_joined_equals_redact(20261125, Disguise::kLookalike);
}

TEST_CASE("a text-less chunk between two halves of a secret does not cut the scan") {
  std::string empty =
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":null}],"
      "\"usage\":null}\n\n";
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {sse_chunk("key AKIAQWERTY"), empty, sse_chunk("UIOPASDFGH"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find("AKIA") == std::string::npos);
}

TEST_CASE("openai Responses stream: output_text deltas are a channel, done events are scanned") {
  Route route{Dialect::kOpenAI, Endpoint::kResponses};
  auto delta = [](std::string_view text) {
    std::string d =
        R"({"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":)";
    json::append_json_string(d, text);
    return "event: response.output_text.delta\ndata: " + d + "}\n\n";
  };
  auto r = run_stream(test_rules(), route, StreamFormat::kSse,
                      {delta("a AKIAQWER"), delta("TYUIOPASDFGH b")});
  CHECK(r.ended);
  CHECK(r.out.find("AKIA") == std::string::npos);
  std::string done =
      "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\","
      "\"output_index\":0,\"content_index\":0,\"text\":\"x sk-test-abcdef123456\"}\n\n";
  auto red = run_stream(test_rules(), route, StreamFormat::kSse, {done});
  CHECK_FALSE(red.ended);
  CHECK(red.out.find("abcdef123456") == std::string::npos);
  CHECK(red.out.find("[REDACTED:DLP.SECRET.OPENAI_API_KEY]") != std::string::npos);
}

TEST_CASE("a generic stream event nested deeper than 128 levels does not parse, without a crash") {
  auto nest = [](int levels) {
    return std::string(levels, '[') + "\"t\"" + std::string(levels, ']');
  };
  std::vector<GenericString> out;
  CHECK(generic_strings(nest(100), out));
  REQUIRE(out.size() == 1);
  CHECK(out[0].text == "t");
  out.clear();
  CHECK_FALSE(generic_strings(nest(200000), out));
}

namespace {

std::string sse_event(std::string_view payload) {
  return "data: " + std::string(payload) + "\n\n";
}

std::string anthropic_text(int index, std::string_view text) {
  std::string data = R"({"type":"content_block_delta","index":)" + std::to_string(index) +
                     R"(,"delta":{"type":"text_delta","text":)";
  json::append_json_string(data, text);
  data += "}}";
  return "event: content_block_delta\ndata: " + data + "\n\n";
}

std::string anthropic_stop(int index) {
  return "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":" +
         std::to_string(index) + "}\n\n";
}

}  // namespace

TEST_CASE(
    "a secret split around a flush of its channel is found: the new channel rescans the tail") {
  const std::string key = kAwsKey;
  // OpenAI: an empty delta of another part of the choice flushes the content channel.
  const std::vector<std::vector<std::string>> openai_flushes = {
      {sse_event(R"({"choices":[{"index":0,"delta":{"reasoning_content":""}}]})")},
      {sse_event(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})")},
      {sse_event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c",)"
                 R"("function":{"name":"lookup","arguments":""}}]}}]})")},
  };
  for (const auto& flush : openai_flushes) {
    INFO(flush[0]);
    std::vector<std::string> chunks = {sse_chunk("key " + key.substr(0, 8))};
    chunks.insert(chunks.end(), flush.begin(), flush.end());
    chunks.push_back(sse_chunk(key.substr(8)));
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    CHECK(r.ended);
    CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
    CHECK(r.out.find(key.substr(8)) == std::string::npos);
  }
  // Anthropic: text after content_block_stop of the same index.
  auto a = run_stream(test_rules(), anthropic_messages(), StreamFormat::kSse,
                      {anthropic_text(0, "key " + key.substr(0, 8)), anthropic_stop(0),
                       anthropic_text(0, key.substr(8)), anthropic_stop(0)});
  CHECK(a.ended);
  CHECK(a.out.find(key.substr(8)) == std::string::npos);
}

TEST_CASE("a continued channel passes innocent text whole and acts on an earlier finding once") {
  // A redacted card before the flush is neither reported again nor blocks the continuation.
  auto r = run_stream(compiled(kRedactPack), openai_chat(), StreamFormat::kSse,
                      {sse_chunk("pay card 1234 5678 now"),
                       sse_event(R"({"choices":[{"index":0,"delta":{"reasoning_content":""}}]})"),
                       sse_chunk(" and then more text"), sse_finish()});
  CHECK_FALSE(r.ended);
  CHECK(joined_content(r.out) == "pay [REDACTED:DLP.PII.CREDIT_CARD] now and then more text");
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].action == store::Action::kRedact);
}

TEST_CASE("stream error events, legacy function calls and audio transcripts are scanned") {
  const std::string key = kAwsKey;
  const std::vector<std::string> openai_events = {
      sse_event(R"({"error":{"message":"upstream says )" + key + R"("}})"),
      sse_event(R"({"choices":[{"index":0,"delta":{"function_call":{"name":"lookup",)"
                R"("arguments":"{\"k\":\")" +
                key + R"(\"}"}}}]})"),
      sse_event(R"({"choices":[{"index":0,"delta":{"audio":{"id":"a","transcript":"key )" + key +
                R"("}}}]})"),
  };
  for (const std::string& e : openai_events) {
    INFO(e);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {e, sse_finish()});
    CHECK(r.ended);
    CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  }
  auto a = run_stream(test_rules(), anthropic_messages(), StreamFormat::kSse,
                      {"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"x\","
                       "\"message\":\"" +
                       key + "\"}}\n\n"});
  CHECK(a.ended);
  CHECK(a.out.find(key) == std::string::npos);
}

TEST_CASE("a stream that opens more than 1024 channels is ended, not scanned forever") {
  auto events = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      out += sse_event(R"({"choices":[{"index":)" + std::to_string(i) +
                       R"(,"delta":{"content":"x"},"finish_reason":"stop"}]})");
    }
    return out;
  };
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {events(1100)});
  CHECK(r.ended);
  CHECK(r.out.find("unparseable stream") != std::string::npos);
  auto few = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {events(1000)});
  CHECK_FALSE(few.ended);
}

namespace {

std::string reasoning_flush() {
  return sse_event(R"({"choices":[{"index":0,"delta":{"reasoning_content":""}}]})");
}

}  // namespace

TEST_CASE("a continuation acts on what the flushed channel had not: longer matches, late context") {
  // A redacted match at the end of the flushed text grows across the flush: the client already
  // has "[REDACTED…]", so the rest must not follow it in clear.
  auto grows = run_stream(compiled(kContinuePack), openai_chat(), StreamFormat::kSse,
                          {sse_chunk("the value is secret-abcd"), reasoning_flush(),
                           sse_chunk("efgh ok"), sse_finish()});
  CHECK(grows.ended);
  CHECK(grows.out.find("efgh") == std::string::npos);
  // A candidate whose required context word arrives only after the flush was not a finding
  // then; it is one now, and its text has left: block.
  auto late = run_stream(
      compiled(kContinuePack), openai_chat(), StreamFormat::kSse,
      {sse_chunk("use code-1234 "), reasoning_flush(), sse_chunk("for the wifi"), sse_finish()});
  CHECK(late.ended);
  // Without any continuation, the first redaction stands and nothing blocks.
  auto plain = run_stream(
      compiled(kContinuePack), openai_chat(), StreamFormat::kSse,
      {sse_chunk("the value is secret-abcd"), reasoning_flush(), sse_chunk(" ok"), sse_finish()});
  CHECK_FALSE(plain.ended);
  CHECK(joined_content(plain.out) == "the value is [REDACTED:DLP.SECRET.PASSWORD_ASSIGNMENT] ok");
}

TEST_CASE("held text flushed in a copy of its event does not repeat the tool call's id and name") {
  // A whole tool call in one delta whose arguments end in something that could begin a key
  // ("AKIA"), so a suffix is held and leaves in a copy of that event at finish_reason. Clients
  // accumulate by concatenating strings (openai-python's accumulate_delta): id, name and role
  // must come out once.
  const std::string args = R"({"q":"AKIA)";
  std::string call =
      R"({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,)"
      R"("id":"call_1","type":"function","function":{"name":"lookup","arguments":)";
  json::append_json_string(call, args);
  call += "}}]}}]}";
  auto r =
      run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {sse_event(call), sse_finish()});
  REQUIRE_FALSE(r.ended);
  SseParser p;
  std::vector<SseEvent> events;
  REQUIRE(p.feed(r.out, events).ok());
  REQUIRE(p.finish(events).ok());
  std::string id, name, role, arguments;
  int carrying = 0;
  simdjson::dom::parser parser;
  for (const SseEvent& e : events) {
    if (!e.has_data || e.data == "[DONE]") continue;
    simdjson::dom::element doc;
    REQUIRE_FALSE(parser.parse(e.data).get(doc));
    simdjson::dom::element delta;
    if (doc["choices"].at(0)["delta"].get(delta)) continue;
    std::string_view v;
    if (!delta["role"].get(v)) role.append(v);
    simdjson::dom::element tc;
    if (delta["tool_calls"].at(0).get(tc)) continue;
    ++carrying;
    if (!tc["id"].get(v)) id.append(v);
    if (!tc["function"]["name"].get(v)) name.append(v);
    if (!tc["function"]["arguments"].get(v)) arguments.append(v);
  }
  CHECK(carrying == 2);  // the event itself and the copy with the held suffix
  // Left out, not emptied: strict clients refuse "role": "" and overwrite ids with "".
  CHECK(r.out.find(R"("role":"")") == std::string::npos);
  CHECK(r.out.find(R"("id":"")") == std::string::npos);
  CHECK(r.out.find(R"("name":"")") == std::string::npos);
  CHECK(id == "call_1");
  CHECK(name == "lookup");
  CHECK(role == "assistant");
  CHECK(arguments == args);
}

TEST_CASE("a refusal has its own channel, and Responses indexes that would alias end the stream") {
  auto r = run_stream(
      test_rules(), openai_chat(), StreamFormat::kSse,
      {sse_chunk("abc AKIA"), sse_event(R"({"choices":[{"index":0,"delta":{"refusal":"zz"}}]})"),
       sse_chunk("def"), sse_finish()});
  REQUIRE_FALSE(r.ended);
  CHECK(joined_content(r.out) == "abc AKIAdef");  // the refusal's text never lands in content
  const Route responses{Dialect::kOpenAI, Endpoint::kResponses};
  auto aliasing = run_stream(
      test_rules(), responses, StreamFormat::kSse,
      {sse_event(R"({"type":"response.output_text.delta","output_index":0,"content_index":1024,)"
                 R"("delta":"x"})")});
  CHECK(aliasing.ended);
  CHECK(aliasing.out.find("unparseable stream") != std::string::npos);
}

TEST_CASE("the flush copy leaves out members and keeps the event valid JSON in every position") {
  // Removed members first, last, alone and next to each other, with and without spaces.
  for (const std::string& delta :
       {std::string(R"({"role":"assistant","content":"AKIA"})"),
        std::string(R"({"content":"AKIA","role":"assistant"})"),
        std::string(R"({ "role" : "assistant" , "name":"n", "content" : "AKIA" , "id":"x" })")}) {
    INFO(delta);
    auto r =
        run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                   {sse_event(R"({"choices":[{"index":0,"delta":)" + delta + "}]}"), sse_finish()});
    REQUIRE_FALSE(r.ended);
    CHECK(joined_content(r.out) == "AKIA");  // joined_content parses every event
    CHECK(r.out.find(R"("role":"")") == std::string::npos);
  }
}

TEST_CASE("a decided redaction waits whole with an overlapping candidate still being decided") {
  constexpr const char* kOverlapPack = R"(apiVersion: edgeward/v1
kind: RulePack
name: overlap
rules:
  - id: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
    name: assignment
    reason_code: DLP.SECRET.PASSWORD_ASSIGNMENT
    action: redact
    detect:
      patterns: ['pass=[a-z0-9]{4}']
  - id: bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
    name: key near its word
    reason_code: DLP.SECRET.PASSWORD_ASSIGNMENT
    action: redact
    detect:
      patterns: ['\bab12\b']
      context: { words: [wifi], within: 40, required: true }
)";
  std::vector<std::string> chunks = {sse_chunk("set pass=ab12 ")};
  for (const char* part : {"on ", "the ", "guest ", "wifi"}) chunks.push_back(sse_chunk(part));
  chunks.push_back(sse_finish());
  auto r = run_stream(compiled(kOverlapPack), openai_chat(), StreamFormat::kSse, chunks, 8);
  CHECK_FALSE(r.ended);
  CHECK(joined_content(r.out) == "set [REDACTED:DLP.SECRET.PASSWORD_ASSIGNMENT] on the guest wifi");
}

TEST_CASE("an upstream failing mid-stream ends it with one error event after the held text") {
  ExchangeFacts f = facts(openai_chat());
  EventRecorder rec(f);
  StreamInspector s(test_rules(), scanner(), openai_chat(), StreamFormat::kSse, 128, rec);
  std::string out;
  // The tail "AKIAQWERTY" could still begin a key, so it is held when the upstream goes away.
  REQUIRE(s.feed(sse_chunk("first part, then AKIAQWERTY"), out) == StreamStep::kContinue);
  CHECK(out.find("AKIA") == std::string::npos);
  // And half an event that never ends: its payload is cut, so it is dropped.
  REQUIRE(s.feed("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"UIOP", out) ==
          StreamStep::kContinue);
  CHECK(s.fail("upstream main failed: upstream.reset", "upstream.reset", out) == StreamStep::kEnd);
  CHECK(s.ended());
  CHECK(out.find("UIOP") == std::string::npos);
  bool error = false;
  // No key can end in the held text any more: it is released, as at a normal end.
  CHECK(joined_content(out, &error) == "first part, then AKIAQWERTY");
  CHECK(error);
  CHECK(out.ends_with(
      "data: {\"error\":{\"message\":\"upstream main failed: upstream.reset\",\"type\":"
      "\"edgeward_upstream_error\",\"code\":\"upstream.reset\",\"param\":null}}\n\n"));
  CHECK(rec.take().empty());  // a failure is not a policy event
  // Once ended, nothing more is written.
  std::string after;
  CHECK(s.fail("again", "upstream.reset", after) == StreamStep::kEnd);
  CHECK(after.empty());
}

TEST_CASE("a held IBAN that the cut completes is blocked when the upstream fails mid-stream") {
  ExchangeFacts f = facts(openai_chat());
  EventRecorder rec(f);
  StreamInspector s(test_rules(), scanner(), openai_chat(), StreamFormat::kSse, 128, rec);
  std::string out;
  REQUIRE(s.feed(sse_chunk(std::string("pay to ") + kIban), out) == StreamStep::kContinue);
  CHECK(out.find("3704") == std::string::npos);  // more digits could still follow
  CHECK(s.fail("upstream main failed: upstream.reset", "upstream.reset", out) == StreamStep::kEnd);
  CHECK(out.find("3704") == std::string::npos);
  CHECK(out.find("blocked by edgeward: DLP.PII.IBAN") != std::string::npos);
  CHECK(out.find("upstream.reset") == std::string::npos);  // one final event: the block's
  CHECK(s.block_reason() == "DLP.PII.IBAN");
  REQUIRE(rec.take().size() == 1);
}

TEST_CASE("the mid-stream failure event takes the Anthropic and the Ollama shapes") {
  CHECK(stream_failure_event(Dialect::kAnthropic, StreamFormat::kSse, "upstream a failed: x",
                             "upstream.response_timeout") ==
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"edgeward_upstream_error\","
        "\"message\":\"upstream a failed: x\"}}\n\n");
  CHECK(stream_failure_event(Dialect::kOllama, StreamFormat::kNdjson, "upstream o failed: y",
                             "upstream.reset") ==
        "{\"error\":\"upstream o failed: y\",\"code\":\"upstream.reset\"}\n");
}

TEST_CASE("a key of look-alikes judged by the word after it does not leave at any split") {
  // АКІАНХМЕЈТԚΖԜРΝВЅСҮО: a word of look-alikes after a Russian word is Latin only because an
  // ASCII word follows it, maybe in the next delta (a review's leak: the raw stream let it go).
  const std::string key =
      "\xD0\x90\xD0\x9A\xD0\x86\xD0\x90\xD0\x9D\xD0\xA5\xD0\x9C\xD0\x95\xD0\x88\xD0\xA2\xD4\x9A"
      "\xCE\x96\xD4\x9C\xD0\xA0\xCE\x9D\xD0\x92\xD0\x85\xD0\xA1\xD2\xAE\xD0\x9E";
  for (const std::string& text : {"ключ " + key + " was in the log", "key: " + key + " was in"}) {
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) continue;
      INFO(text << " cut " << cut);
      auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
      CHECK(r.ended);
      CHECK(r.out.find(key.substr(8)) == std::string::npos);
      CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
    }
  }
}

TEST_CASE("a key with hidden characters inside is found in streamed deltas at every split") {
  // "AKIA<U+200B>QWERTY<U+2060>UIOPASDFGH": what a web page's copy or a model told to hide a
  // key writes. Every split of the text into two deltas, on code point boundaries.
  const std::string text = "the key AKIA\u200bQWERTY\u2060UIOPASDFGH, keep it";
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) continue;
    INFO(cut);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
    CHECK(r.ended);
    CHECK(r.out.find("QWERTY") == std::string::npos);
    CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  }
  // Fullwidth digits: an IBAN a model wrote in them.
  auto wide = run_stream(
      test_rules(), openai_chat(), StreamFormat::kSse,
      {sse_chunk("pay to DE89 ３７０４ 0044 0532 "), sse_chunk("0130 00 now"), sse_finish()});
  CHECK(wide.ended);
  CHECK(wide.out.find("blocked by edgeward: DLP.PII.IBAN") != std::string::npos);
}

TEST_CASE("emoji joiners and selectors in a stream pass unchanged and find nothing") {
  const std::string text =
      "family \xF0\x9F\x91\xA8\u200d\xF0\x9F\x91\xA9\u200d\xF0\x9F\x91\xA7 and a heart "
      "\u2764\ufe0f then a flag \xF0\x9F\x8F\xB4\U000E0067\U000E0062\U000E0073\U000E0063"
      "\U000E0074\U000E007F done";
  for (std::size_t step : {1u, 3u, 7u, 64u}) {
    std::vector<std::string> chunks;
    for (const std::string& piece : code_point_pieces(text, [&] { return step; })) {
      chunks.push_back(sse_chunk(piece));
    }
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    INFO(step);
    CHECK_FALSE(r.ended);
    CHECK(joined_content(r.out) == text);
    CHECK(r.events.empty());
  }
}

TEST_CASE("a redacted key with a hidden character is redacted whole, hidden character included") {
  auto r =
      run_stream(compiled(kRedactPack), openai_chat(), StreamFormat::kSse,
                 {sse_chunk("my key sk-te\u00adst-abc"), sse_chunk("def123456 ok"), sse_finish()});
  CHECK_FALSE(r.ended);
  CHECK(joined_content(r.out) == "my key [REDACTED:DLP.SECRET.OPENAI_API_KEY] ok");
}

TEST_CASE("a key with a hidden character split around a flush of its channel is found") {
  const std::string key = kAwsKey;
  const std::string hidden = key.substr(0, 6) + "\u200b" + key.substr(6, 4);
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {sse_chunk("key " + hidden),
                       sse_event(R"({"choices":[{"index":0,"delta":{"reasoning_content":""}}]})"),
                       sse_chunk(key.substr(10) + " ok"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
  CHECK(r.out.find(key.substr(10)) == std::string::npos);
}

namespace {

// An OpenAI chunk carrying a piece of tool call 0's arguments (JSON text, sent as a string).
std::string arguments_chunk(std::string_view piece, bool first = false) {
  std::string args;
  json::append_json_string(args, piece);
  std::string call = first ? R"({"index":0,"id":"c","type":"function","function":{"name":"lookup",)"
                             R"("arguments":)" +
                                 args + "}}"
                           : R"({"index":0,"function":{"arguments":)" + args + "}}";
  return "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[" + call +
         "]},\"finish_reason\":null}]}\n\n";
}

}  // namespace

TEST_CASE("streamed tool-call arguments are read with their JSON escapes decoded, at every split") {
  const std::string key = kAwsKey;
  // The arguments' JSON text: a file whose second line is a key (`\n` glued to it), a key
  // spelled with `\u0041`, and a surrogate pair's escapes in front of a key.
  const std::vector<std::string> texts = {
      R"({"path":"creds","content":"[default]\n)" + key + R"(\n"})",
      R"({"k":"\u0041)" + key.substr(1) + R"("})",
      R"({"k":"\ud83d\ude00)" + key + R"("})",
  };
  for (const std::string& text : texts) {
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      INFO(text << " cut " << cut);
      auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                          {arguments_chunk(text.substr(0, cut), true),
                           arguments_chunk(text.substr(cut)), sse_finish()});
      CHECK(r.ended);
      CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
      CHECK(r.out.find(key.substr(10)) == std::string::npos);
    }
  }
  // Arguments with escapes and no secret pass unchanged.
  const std::string plain = R"({"q":"line one\nline two \u00e9 \"quoted\" a\\b"})";
  auto ok = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                       {arguments_chunk(plain.substr(0, 20), true),
                        arguments_chunk(plain.substr(20)), sse_finish()});
  CHECK_FALSE(ok.ended);
  CHECK(ok.events.empty());
}

TEST_CASE("streamed logprobs are withheld: a held key never leaves in them before its block") {
  auto with_logprobs = [](std::string_view text) {
    std::string content;
    json::append_json_string(content, text);
    return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":" + content +
           "},\"logprobs\":{\"content\":[{\"token\":" + content +
           ",\"logprob\":-0.5,\"bytes\":[],\"top_logprobs\":[]}]},\"finish_reason\":null}]}\n\n";
  };
  auto r = run_stream(
      test_rules(), openai_chat(), StreamFormat::kSse,
      {with_logprobs("Your key is AKIAQWER"), with_logprobs("TYUIOPASDFGH ok"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find("AKIA") == std::string::npos);
  CHECK(r.out.find("\"logprobs\":null") != std::string::npos);
  CHECK(r.out.find("\"token\"") == std::string::npos);
  // Without a finding the text passes whole, the logprobs still withheld.
  auto clean = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                          {with_logprobs("hello "), with_logprobs("there"), sse_finish()});
  CHECK_FALSE(clean.ended);
  CHECK(joined_content(clean.out) == "hello there");
  CHECK(clean.out.find("\"token\"") == std::string::npos);
}

// Cases from a review of the second stream (2026-11-24): each failed, or pinned a property.

namespace {
// Encodes one ASCII char of a secret in a random way a JSON tool-call argument can spell it.
std::string r10_encode(char c, std::mt19937& rng) {
  char buf[16];
  switch (rng() % 7) {
    case 0:
    case 1:
    case 2:
      return std::string(1, c);
    case 3:
      std::snprintf(buf, sizeof buf, (rng() % 2) ? "\\u%04x" : "\\u%04X", (unsigned)c);
      return buf;
    case 4: {  // fullwidth, raw UTF-8 or escaped
      unsigned cp = 0xFF01 + (unsigned)(c - 0x21);
      if (rng() % 2) {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
        return buf;
      }
      std::string s;
      s += (char)(0xE0 | (cp >> 12));
      s += (char)(0x80 | ((cp >> 6) & 0x3F));
      s += (char)(0x80 | (cp & 0x3F));
      return s;
    }
    case 5: {  // math bold (letters A-Z / digits) as a surrogate-pair escape
      unsigned cp;
      if (c >= 'A' && c <= 'Z')
        cp = 0x1D400 + (c - 'A');
      else if (c >= '0' && c <= '9')
        cp = 0x1D7CE + (c - '0');
      else
        return std::string(1, c);
      unsigned v = cp - 0x10000, hi = 0xD800 + (v >> 10), lo = 0xDC00 + (v & 0x3FF);
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", hi, lo);
      return buf;
    }
    default:
      return std::string(1, c) + ((rng() % 2) ? "\\u200b" : "\u200b");
  }
}
}  // namespace

TEST_CASE("property: AWS key spelled with escapes/fullwidth/surrogates in streamed args") {
  std::mt19937 rng(1010);
  const std::string key = kAwsKey;
  const std::vector<std::string> filler = {"a ",     "\\n",      "\\\\", "\\\"q\\\" ",
                                           "x\\ty ", "\\u00e9 ", "word "};
  int fails = 0;
  for (int it = 0; it < 600 && fails < 5; ++it) {
    std::string text = R"({"c":")";
    int n =
        rng() % 3 == 0 ? 400 + rng() % 600 : rng() % 20;  // sometimes far beyond the priming window
    for (int i = 0; i < n; ++i) text += filler[rng() % filler.size()];
    text += (rng() % 2) ? "\\n" : " ";
    for (char c : key) text += r10_encode(c, rng);
    text += R"( end"})";
    std::vector<std::string> chunks;
    bool first = true;
    for (const std::string& piece : code_point_pieces(text, [&] { return 1 + rng() % 24; })) {
      chunks.push_back(arguments_chunk(piece, first));
      first = false;
    }
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    bool ok = r.ended &&
              r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos;
    if (!ok) {
      ++fails;
      WARN("iteration " << it << " not blocked as AWS key: " << text << "\n-> "
                        << r.out.substr(r.out.size() > 600 ? r.out.size() - 600 : 0));
    }
  }
  CHECK(fails == 0);
}

TEST_CASE("property: content deltas with hidden chars and long prefixes (beyond priming)") {
  std::mt19937 rng(2020);
  const std::string key = kAwsKey;
  const std::vector<std::string> hidden = {"\u200b", "\u00ad", "\ufeff", "\u2060",
                                           "\u200d", "\u061c", "\u3164"};
  int fails = 0;
  for (int it = 0; it < 600 && fails < 5; ++it) {
    std::string text;
    int n = rng() % 3 == 0 ? 300 + rng() % 800 : rng() % 10;
    for (int i = 0; i < n; ++i) text += (rng() % 5 == 0) ? "é " : "word ";
    for (char c : key) {
      text += c;
      if (rng() % 3 == 0) text += hidden[rng() % hidden.size()];
    }
    // no hidden char after the last byte (a block scan would not fold there)
    text += " end";
    std::vector<std::string> chunks;
    for (const std::string& piece : code_point_pieces(text, [&] { return 1 + rng() % 16; })) {
      chunks.push_back(sse_chunk(piece));
    }
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    bool ok = r.ended &&
              r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos;
    if (!ok) {
      ++fails;
      WARN("iteration " << it << ": " << text);
    }
  }
  CHECK(fails == 0);
}

TEST_CASE("hidden character in the delta that also ends the choice (finish_reason)") {
  auto final_chunk = [](std::string_view text) {
    std::string data = R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,)"
                       R"("delta":{"content":)";
    json::append_json_string(data, text);
    data += R"(},"finish_reason":"stop"}]})";
    return "data: " + data + "\n\ndata: [DONE]\n\n";
  };
  // One event: text and finish_reason together (vLLM, llama.cpp, many OpenAI-compatible servers).
  auto one = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {final_chunk("key AKIA\u200bQWERTYUIOPASDFGH")});
  INFO(one.out);
  CHECK(one.ended);
  CHECK(one.out.find("UIOPASDFGH") == std::string::npos);
  // Two events: the hidden character only in the last one.
  auto two = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {sse_chunk("key AKIAQW"), final_chunk("ER\u200bTYUIOPASDFGH")});
  INFO(two.out);
  CHECK(two.ended);
  CHECK(two.out.find("UIOPASDFGH") == std::string::npos);
  // Ollama native: the last line carries done:true with text.
  Route route{Dialect::kOllama, Endpoint::kOllamaChat};
  auto ol = run_stream(test_rules(), route, StreamFormat::kNdjson,
                       {"{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"key "
                        "AKIA\\u200bQWERTYUIOPASDFGH\"},\"done\":true}\n"});
  INFO(ol.out);
  CHECK(ol.ended);
  // Tool-call args: the last arguments delta carries finish_reason tool_calls.
  const std::string key = kAwsKey;
  std::string args;
  json::append_json_string(args, R"({"c":"[default]\n)" + key + R"("})");
  auto tc =
      run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                 {"data: "
                  "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
                  "\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":" +
                  args + "}}]},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n"});
  INFO(tc.out);
  CHECK(tc.ended);
  CHECK(tc.out.find(key.substr(10)) == std::string::npos);
}

namespace {
// The arguments of every OpenAI tool-call delta in an SSE byte stream, joined.
std::string r10_args_joined(const std::string& sse, bool* error = nullptr) {
  std::string out;
  for_each_choice(sse, error, [&](simdjson::dom::element c) {
    simdjson::dom::array calls;
    if (c["delta"]["tool_calls"].get(calls)) return;
    for (simdjson::dom::element call : calls) {
      std::string_view s;
      if (!call["function"]["arguments"].get(s)) out.append(s);
    }
  });
  return out;
}
}  // namespace

TEST_CASE("continuation of a tool-call channel after a flush: escape in the tail") {
  // Arguments "...\n" then a content delta (flushes the tool channel), then the key.
  const std::string key = kAwsKey;
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"c":"[default]\n)", true), sse_chunk(" "),
                       arguments_chunk(key + R"("})"), sse_finish()});
  INFO(r.out);
  CHECK(r.ended);
  CHECK(r.out.find(key.substr(10)) == std::string::npos);
}

TEST_CASE("continuation without flush-in-between control: same text, no content delta") {
  const std::string key = kAwsKey;
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"c":"[default]\n)", true),
                       arguments_chunk(key + R"("})"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find(key.substr(10)) == std::string::npos);
}

TEST_CASE("redact rule in tool-call args spelled with an escape split across deltas") {
  const std::string text = R"({"k":"x \u0073k-test-abcdefabcdef y"})";
  int blocked = 0, redacted = 0, leaked = 0;
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {arguments_chunk(text.substr(0, cut), true),
                         arguments_chunk(text.substr(cut)), sse_finish()});
    bool error = false;
    std::string args = r10_args_joined(r.out, &error);
    if (args.find("abcdefabcdef") != std::string::npos) {
      ++leaked;
      UNSCOPED_INFO("leak at cut " << cut << ": " << args);
    } else if (r.ended) {
      ++blocked;
      UNSCOPED_INFO("blocked at cut " << cut << " args so far: " << args);
    } else {
      ++redacted;
    }
  }
  UNSCOPED_INFO("blocked " << blocked << " redacted " << redacted << " leaked " << leaked);
  CHECK(leaked == 0);
  CHECK(blocked == 0);
}

TEST_CASE("redact rule in tool-call args seen by both streams is one event") {
  // Visible to the raw stream and to the decoded one (the args hold an escape).
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"k":"a\nb sk-test-abcdefabcdef)", true),
                       arguments_chunk(R"( done"})"), sse_finish()});
  INFO(r.out);
  CHECK_FALSE(r.ended);
  CHECK(r.events.size() == 1);
}

TEST_CASE("variable-length redact match: raw and decoded spans differ") {
  auto r = run_stream(compiled(kContinuePack), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"k":"secret-abcd\u0065fgh)", true),
                       arguments_chunk(R"( done"})"), sse_finish()});
  INFO(r.out);
  CHECK_FALSE(r.ended);
  CHECK(r.events.size() == 1);
  CHECK(r10_args_joined(r.out).find("fgh") == std::string::npos);
}

TEST_CASE("backslash runs split at every cut: an odd or even run before n is a line break") {
  const std::string key = kAwsKey;
  // JSON text a\\\nKEY : decoded a\ <newline> KEY -> key at line start: must block.
  const std::string odd = std::string(R"({"c":"a\\\n)") + key + R"("})";
  // JSON text a\\\\nKEY : decoded a\\nKEY, which read as free text (the value may be text
  // with escapes written out) is a line break before the key: must block too.
  const std::string even = std::string(R"({"c":"a\\\\n)") + key + R"("})";
  for (std::size_t cut = 1; cut < odd.size(); ++cut) {
    INFO("odd cut " << cut);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {arguments_chunk(odd.substr(0, cut), true),
                         arguments_chunk(odd.substr(cut)), sse_finish()});
    CHECK(r.ended);
    CHECK(r.out.find(key.substr(10)) == std::string::npos);
  }
  for (std::size_t cut = 1; cut < even.size(); ++cut) {
    INFO("even cut " << cut);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {arguments_chunk(even.substr(0, cut), true),
                         arguments_chunk(even.substr(cut)), sse_finish()});
    CHECK(r.ended);
    CHECK(r.out.find(key.substr(10)) == std::string::npos);
  }
}

TEST_CASE("math bold A as a surrogate pair escape, split at every cut") {
  const std::string key = kAwsKey;
  const std::string text = std::string(R"({"c":"x \ud835\udc00)") + key.substr(1) + R"( y"})";
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    INFO("cut " << cut);
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                        {arguments_chunk(text.substr(0, cut), true),
                         arguments_chunk(text.substr(cut)), sse_finish()});
    CHECK(r.ended);
    CHECK(r.out.find(key.substr(10)) == std::string::npos);
  }
}

TEST_CASE("continuation after a flush, escape split around the flush") {
  const std::string key = kAwsKey;
  // The backslash ends the first channel; `n` + key continue after a content delta.
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"c":"[default]\)", true), sse_chunk(" "),
                       arguments_chunk("n" + key + R"("})"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find(key.substr(10)) == std::string::npos);
  // \u0041 split around a flush.
  auto u = run_stream(test_rules(), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"c":"x \u00)", true), sse_chunk(" "),
                       arguments_chunk("41" + key.substr(1) + R"("})"), sse_finish()});
  CHECK(u.ended);
  CHECK(u.out.find(key.substr(10)) == std::string::npos);
}

TEST_CASE("anthropic input_json_delta continuation (content block interleave)") {
  // sanity only: the anthropic path with an escape inside one channel
  const std::string key = kAwsKey;
  auto ev = [](std::string_view name, const std::string& data) {
    return "event: " + std::string(name) + "\ndata: " + data + "\n\n";
  };
  std::string pj1, pj2;
  json::append_json_string(pj1, R"({"c":"[default]\n)");
  json::append_json_string(pj2, key + R"("})");
  auto r = run_stream(
      test_rules(), anthropic_messages(), StreamFormat::kSse,
      {ev("message_start",
          R"({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"model":"c"}})"),
       ev("content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"lookup","input":{}}})"),
       ev("content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":)" +
              pj1 + "}}"),
       ev("content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":)" +
              pj2 + "}}"),
       ev("content_block_stop", R"({"type":"content_block_stop","index":0})"),
       ev("message_stop", R"({"type":"message_stop"})")});
  CHECK(r.ended);
  CHECK(r.out.find(key.substr(10)) == std::string::npos);
}

TEST_CASE("logprobs nested deeper than 128 levels end the stream as unparseable") {
  std::string deep;
  for (int i = 0; i < 130; ++i) deep += "[";
  for (int i = 0; i < 130; ++i) deep += "]";
  std::string content;
  json::append_json_string(content, "Your key is AKIAQWER");
  std::string ev1 = "data: {\"x\":" + deep +
                    ",\"choices\":[{\"index\":0,\"delta\":{\"content\":" + content +
                    "},\"logprobs\":{\"content\":[{\"token\":\"SECRETTOKEN\"}]},"
                    "\"finish_reason\":null}]}\n\n";
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {ev1, sse_finish()});
  INFO(r.out);
  CHECK(r.out.find("SECRETTOKEN") == std::string::npos);
  // Logprobs that cannot be withheld end the stream as unparseable.
  CHECK(r.ended);
  CHECK(r.out.find("blocked by edgeward: POLICY.CUSTOM (rule unparseable stream)") !=
        std::string::npos);
}

TEST_CASE("logprobs re-render keeps id and event lines") {
  std::string ev =
      "id: 42\nevent: chunk\nretry: 10\ndata: "
      "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},"
      "\"logprobs\":{\"content\":[{\"token\":\"hi\"}]},\"finish_reason\":null}]}\n\n";
  auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, {ev, sse_finish()});
  INFO(r.out);
  CHECK(r.out.find("id: 42\n") != std::string::npos);
  CHECK(r.out.find("retry: 10\n") != std::string::npos);
  CHECK(r.out.find("event: chunk\n") != std::string::npos);
  CHECK(r.out.find("\"token\"") == std::string::npos);
}

TEST_CASE("null_members rewrites tool-call arguments that have a logprobs member") {
  Route route{Dialect::kOllama, Endpoint::kOllamaChat};
  const std::string l1 =
      R"({"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"lookup","arguments":{"query":"x","logprobs":5}}}]},"done":false})"
      "\n";
  const std::string l2 = R"({"model":"m","message":{"role":"assistant","content":""},"done":true})"
                         "\n";
  auto r = run_stream(test_rules(), route, StreamFormat::kNdjson, {l1, l2});
  INFO(r.out);
  CHECK_FALSE(r.ended);
  CHECK(r.out.find(R"("logprobs":5)") != std::string::npos);  // the tool's own argument kept
}

TEST_CASE("property: hidden chars + a flush at a random point inside the key") {
  std::mt19937 rng(4040);
  const std::string key = kAwsKey;
  const std::vector<std::string> hidden = {"\u200b", "\u00ad", "\ufeff", "\u2060", "\u200d"};
  const std::string flush_ev =
      sse_event(R"({"choices":[{"index":0,"delta":{"reasoning_content":"."}}]})");
  int fails = 0;
  for (int it = 0; it < 800 && fails < 5; ++it) {
    std::string text;
    int n = rng() % 3 == 0 ? 200 + rng() % 900 : rng() % 10;
    for (int i = 0; i < n; ++i) text += "word ";
    text += "key ";
    std::vector<std::size_t> cuts_ok;  // code point boundaries inside the key
    const std::size_t key_begin = text.size();
    for (char c : key) {
      text += c;
      if (rng() % 3 == 0) text += hidden[rng() % hidden.size()];
    }
    const std::size_t key_end = text.size();
    text += " end";
    std::size_t flush_at = key_begin + 1 + rng() % (key_end - key_begin - 1);
    while ((static_cast<unsigned char>(text[flush_at]) & 0xC0) == 0x80) ++flush_at;
    std::vector<std::string> chunks;
    std::size_t pos = 0;
    for (const std::string& piece : code_point_pieces(
             text, [&] { return 1 + rng() % 16; }, flush_at)) {
      chunks.push_back(sse_chunk(piece));
      pos += piece.size();
      if (pos == flush_at) chunks.push_back(flush_ev);
    }
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    bool ok = r.ended && r.out.find("DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos;
    if (!ok) {
      ++fails;
      WARN("iteration " << it << " flush_at " << flush_at - key_begin << ": "
                        << text.substr(key_begin));
    }
  }
  CHECK(fails == 0);
}

TEST_CASE("property: escaped key in tool args + a content delta (flush) at a random point") {
  std::mt19937 rng(5050);
  const std::string key = kAwsKey;
  int fails = 0;
  for (int it = 0; it < 600 && fails < 5; ++it) {
    std::string text = R"({"c":")";
    int n = rng() % 3 == 0 ? 300 + rng() % 600 : rng() % 10;
    for (int i = 0; i < n; ++i) text += (rng() % 2) ? "ab " : "\\\\ ";
    text += "[default]\\n";
    for (char c : key) text += r10_encode(c, rng);
    text += R"( end"})";
    const std::size_t flush_at = 1 + rng() % (text.size() - 1);
    std::vector<std::string> chunks;
    std::size_t pos = 0;
    bool first = true, flushed = false;
    for (const std::string& piece : code_point_pieces(
             text, [&] { return 1 + rng() % 16; }, flush_at)) {
      chunks.push_back(arguments_chunk(piece, first));
      first = false;
      pos += piece.size();
      if (!flushed && pos >= flush_at) {
        chunks.push_back(sse_chunk(" "));
        flushed = true;
      }
    }
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    bool ok = r.ended && r.out.find("DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos;
    if (!ok) {
      ++fails;
      WARN("iteration " << it << " flush_at " << flush_at << ": " << text);
    }
  }
  CHECK(fails == 0);
}

TEST_CASE("property: redactable key spelled with escapes in streamed args: blocked vs redacted") {
  std::mt19937 rng(3030);
  const std::string key = "sk-test-abcdef123456";
  int blocked = 0, redacted = 0, leaked = 0, other = 0;
  for (int it = 0; it < 400; ++it) {
    std::string text = R"({"c":"x )";
    for (char c : key) {
      if (rng() % 4 == 0) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", (unsigned)c);
        text += buf;
      } else
        text += c;
    }
    text += R"( end"})";
    std::vector<std::string> chunks;
    std::size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
      std::size_t end = std::min(text.size(), pos + 1 + rng() % 12);
      chunks.push_back(arguments_chunk(text.substr(pos, end - pos), first));
      first = false;
      pos = end;
    }
    chunks.push_back(sse_finish());
    auto r = run_stream(test_rules(), openai_chat(), StreamFormat::kSse, chunks);
    std::string args = r10_args_joined(r.out);
    if (args.find("123456") != std::string::npos)
      ++leaked;
    else if (r.ended)
      ++blocked;
    else if (args.find("[REDACTED:DLP.SECRET.OPENAI_API_KEY]") != std::string::npos)
      ++redacted;
    else
      ++other;
  }
  WARN("blocked " << blocked << " redacted " << redacted << " leaked " << leaked << " other "
                  << other);
  CHECK(leaked == 0);
  CHECK(blocked == 0);
}

TEST_CASE("a streamed redaction that would cut a tool call's JSON arguments ends the stream") {
  // The password rule reads `"password":"…"` whole: redacted in place, the arguments the tool
  // parses would lose their quotes. Block instead, as requests and buffered answers do.
  auto r = run_stream(default_rules(), openai_chat(), StreamFormat::kSse,
                      {arguments_chunk(R"({"password":"Tr0)", true),
                       arguments_chunk(R"(ub4dor&3","user":"x"})"), sse_finish()});
  CHECK(r.ended);
  CHECK(r.out.find("ub4dor") == std::string::npos);
  CHECK(r.out.find("blocked by edgeward: DLP.SECRET.PASSWORD_ASSIGNMENT") != std::string::npos);
  // The same rule in the answer's text redacts as before.
  auto text = run_stream(default_rules(), openai_chat(), StreamFormat::kSse,
                         {sse_chunk("the password is Tr0ub4dor&3 ok"), sse_finish()});
  CHECK_FALSE(text.ended);
  CHECK(joined_content(text.out).find("[REDACTED:DLP.SECRET.PASSWORD_ASSIGNMENT]") !=
        std::string::npos);
}

TEST_CASE(
    "a streamed answer with a key after an escaped line break ends the stream at every split") {
  // The answer writes JSON out: `\n` glued the key to the `n` before it, at any depth.
  for (const std::string esc : {R"(\n)", R"(\\n)", R"(\\\\n)"}) {
    const std::string text = R"(Use {"env":"REGION=eu)" + esc + "AKIA4XCIVWF6E2B7AYYA\"} here";
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      INFO(text << " cut " << cut);
      auto r =
          run_stream(default_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
      CHECK(r.ended);
      CHECK(r.out.find("blocked by edgeward: DLP.SECRET.AWS_ACCESS_KEY") != std::string::npos);
      CHECK(r.out.find("CIVWF6") == std::string::npos);
    }
  }
}

TEST_CASE("a streamed answer with a card after an escaped tab is redacted at every split") {
  const std::string text = R"(name\tcard\nBob\t4539 1488 0343 6467\tok)";
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    INFO("cut " << cut);
    auto r = run_stream(default_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
    CHECK_FALSE(r.ended);
    CHECK(joined_content(r.out) == R"(name\tcard\nBob\t[REDACTED:DLP.PII.CREDIT_CARD]\tok)");
  }
}

TEST_CASE("a streamed answer of code with backslashes passes whole and records nothing") {
  const std::string text =
      R"(Try printf("total\t%d\n", n); or the path C:\Users\me\new or ^\d{4}\s\w+$ or "\u00e9".)";
  for (std::size_t cut = 1; cut < text.size(); cut += 7) {
    auto r = run_stream(default_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
    CHECK_FALSE(r.ended);
    CHECK(joined_content(r.out) == text);
    CHECK(r.events.empty());
  }
}

TEST_CASE("a streamed answer with a key after an escape of another depth or language ends") {
  // A backslash written as an escape, an escape of Python's or C's: each a line break before
  // the key to a reader (a review's findings, 2026-11-25).
  for (const std::string esc : {R"(\u005cn)", R"(\x0a)",
                                R"(\)"
                                "\xE2\x80\x8B"
                                "n"}) {
    const std::string text = "[default]" + esc + "AKIA4XCIVWF6E2B7AYYA end";
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) continue;  // a JSON string
      INFO(text << " cut " << cut);                                          // holds whole ones
      auto r =
          run_stream(default_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
      CHECK(r.ended);
      CHECK(r.out.find("CIVWF6") == std::string::npos);
    }
  }
}

TEST_CASE("escaped hidden characters are no hidden text in a stream or a buffered answer") {
  const std::string text = R"(a\u200b\u200b\u200bb and \udb40\udc49\udb40\udc67 and x\u202Ey)";
  auto r = run_stream(default_rules(), openai_chat(), StreamFormat::kSse,
                      {sse_chunk(text.substr(0, 9)), sse_chunk(text.substr(9)), sse_finish()});
  CHECK_FALSE(r.ended);
  CHECK(joined_content(r.out) == text);
  CHECK(r.events.empty());
  ExchangeInspector x(default_rules(), scanner(), {}, facts(openai_chat()));
  REQUIRE(x.inspect_request({}, "/v1/chat/completions", "{}").kind == RequestDecision::Kind::allow);
  std::string body = R"({"choices":[{"index":0,"message":{"role":"assistant","content":)";
  json::append_json_string(body, text);
  body += "}}]}";
  auto d = x.inspect_response(body);
  CHECK(d.kind == ResponseDecision::Kind::allow);
  CHECK(x.events().take().empty());
}

TEST_CASE("a streamed answer with a key after a colour code ends at every split") {
  for (const std::string& text : {std::string("key: \x1b[32mAKIA4XCIVWF6E2B7AYYA\x1b[0m end"),
                                  std::string(R"(key: \u001b[32mAKIA4XCIVWF6E2B7AYYA end)")}) {
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      INFO(text << " cut " << cut);
      auto r =
          run_stream(default_rules(), openai_chat(), StreamFormat::kSse, two_deltas(text, cut));
      CHECK(r.ended);
      CHECK(r.out.find("CIVWF6") == std::string::npos);
    }
  }
}

TEST_CASE(
    "a streamed flood of zero-width characters is redacted as a whole body is, holding little") {
  // The hidden-text rule matches a run of them at every position: a stream kept every finding
  // and held the whole run (128 KiB took 51 s). Findings of a run join, up to the widest match.
  auto rules = default_rules();
  std::string text = "look here ";
  for (int i = 0; i < 12000; ++i) text += "\u200b";  // 36,000 bytes
  text += " and read on";
  std::vector<rules::Finding> whole;
  REQUIRE(scanner()
              .scan(*rules, rules::Scope::response, rules::Surface::body,
                    rules::Layer::pre_template, text, whole)
              .ok());
  const std::string want = rules::redact(text, whole);
  CHECK(want.find("\u200b") == std::string::npos);
  for (std::size_t per : {3, 60, 600}) {
    ExchangeFacts f = facts(openai_chat());
    EventRecorder rec(f);
    StreamInspector s(rules, scanner(), openai_chat(), StreamFormat::kSse, 128, rec);
    std::string out;
    std::uint64_t most_held = 0;
    for (const std::string& piece : code_point_pieces(text, [&] { return per; })) {
      REQUIRE(s.feed(sse_chunk(piece), out) == StreamStep::kContinue);
      most_held = std::max(most_held, s.held_bytes());
    }
    REQUIRE(s.feed(sse_finish(), out) == StreamStep::kContinue);
    REQUIRE(s.finish(out) == StreamStep::kContinue);
    INFO("delta bytes " << per);
    CHECK(joined_content(out) == want);
    CHECK(most_held <= rules::kMaxPatternWidth + 2 * per + 1024);
  }
}

TEST_CASE("one large delta of many redactions is inspected in one pass") {
  // Each finding looked through the channel's redactions and the stream's reported spans for
  // one to grow: one 280 KB delta of delimiters took 845 ms, a 4 MiB event would take minutes
  // (a review's finding; this one would take two minutes). Only a finding reported again looks,
  // at most one per rule and call.
  std::string text;
  for (int k = 0; k < 500000; ++k) text += "[INST] ";  // 3.5 MB, a redaction every 7 bytes
  auto r = run_stream(default_rules(), openai_chat(), StreamFormat::kSse,
                      {sse_chunk(text), sse_finish()});
  REQUIRE_FALSE(r.ended);
  const std::string joined = joined_content(r.out);
  CHECK(joined.find("[INST]") == std::string::npos);
  CHECK(joined.find("[REDACTED:INJECTION.DELIMITER_SPOOFING]") != std::string::npos);
  // A generic stream's event: its findings were each looked up in all the event scan's
  // (80,000 took 1.2 s; this one would take about a minute).
  std::string data = R"({"token":{"text":)";
  json::append_json_string(data, text);
  data += "}}";
  auto generic = run_stream(default_rules(), Route{Dialect::kGeneric, Endpoint::kUnknown},
                            StreamFormat::kSse, {"data: " + data + "\n\n"});
  REQUIRE_FALSE(generic.ended);
  CHECK(generic.out.find("[INST]") == std::string::npos);
  CHECK(generic.out.find("[REDACTED:INJECTION.DELIMITER_SPOOFING]") != std::string::npos);
}
