#include "daemon/inspect/hook.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <thread>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "inspect_fixtures.hpp"
#include "rules/blob.hpp"
#include "rules/keys.hpp"

using namespace edgeward;
using namespace edgeward::inspect;

namespace {

struct TempFile {
  std::string path;
  TempFile() {
    static int n = 0;
    path = "/tmp/edgeward-hook-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  }
  ~TempFile() { std::remove(path.c_str()); }
  void write(const std::string& text) const { std::ofstream(path, std::ios::trunc) << text; }
};

std::string signed_blob(const rules::SecretKey& key, std::uint64_t version,
                        std::chrono::milliseconds valid_for = std::chrono::hours(1)) {
  auto pack = rules::parse_pack(inspect_test::kTestPack, "<test>");
  REQUIRE(pack.ok());
  rules::BlobPayload p;
  p.tenant_id = "t";
  p.version = version;
  p.created_at = timefmt::now() - std::chrono::hours(1);
  p.expires_at = timefmt::now() + valid_for;
  p.pack_json = rules::pack_to_json(*pack);
  return rules::sign_blob(p, {&key});
}

std::string b64(const rules::PublicKey& k) {
  return rules::base64_encode(
      std::string_view(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()));
}

struct Request {
  http::RequestHead head;
  daemon::RouteInfo route;
  std::string body;
  Request(std::string content) {
    head.method = "POST";
    head.target = "/v1/chat/completions";
    route.upstream = "openai";
    route.dialect_setting = "auto";
    route.path = "/v1/chat/completions";
    body = R"({"model":"m","messages":[{"role":"user","content":")" + content + R"("}]})";
  }
};

const char* kIban = "DE89 3704 0044 0532 0130 00";

}  // namespace

TEST_CASE("requests in flight keep the rule set they started with across a reload") {
  MetricsRegistry metrics;
  daemon::Config config;
  config.state_dir = "/nonexistent";
  auto engine = InspectionEngine::create(config, metrics, /*open_store=*/false);
  REQUIRE(engine.ok());
  REQUIRE((*engine)->ready());
  CHECK((*engine)->snapshot()->source == "embedded");

  Request before(kIban);
  auto in_flight = (*engine)->begin(before.route, before.head);
  REQUIRE(in_flight);

  // Reload onto a signed blob whose IBAN rule blocks (the embedded pack redacts IBANs).
  rules::SecretKey key = rules::generate_secret_key();
  TempFile blob;
  blob.write(signed_blob(key, 1));
  daemon::Config next = config;
  next.rules.file = blob.path;
  next.rules.trusted_keys = {b64(key.public_key())};
  REQUIRE((*engine)->reload(next).ok());
  (*engine)->wait_idle();
  REQUIRE((*engine)->snapshot()->version == 1);

  // The request that began before the reload still decides with the embedded pack.
  auto old_verdict = in_flight->decide_request(before.head, before.body);
  CHECK(old_verdict.kind == daemon::RequestVerdict::Kind::rewrite);
  // A new one sees the blob.
  Request after(kIban);
  auto fresh = (*engine)->begin(after.route, after.head);
  auto new_verdict = fresh->decide_request(after.head, after.body);
  REQUIRE(new_verdict.kind == daemon::RequestVerdict::Kind::answer);
  CHECK(new_verdict.answer.status == 403);
  CHECK(new_verdict.answer.headers.get("Edgeward-Reason") ==
        std::optional<std::string_view>("DLP.PII.IBAN"));
  CHECK(new_verdict.answer.headers.get("Edgeward-Event").has_value());
}

TEST_CASE("a tampered blob at reload is refused, counted and the active set stays") {
  MetricsRegistry metrics;
  rules::SecretKey key = rules::generate_secret_key();
  TempFile blob;
  blob.write(signed_blob(key, 1));
  daemon::Config config;
  config.rules.file = blob.path;
  config.rules.trusted_keys = {b64(key.public_key())};
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  REQUIRE((*engine)->snapshot()->version == 1);

  std::string tampered = signed_blob(key, 2);
  auto p = tampered.find("\"payload\":\"") + 11 + 30;
  tampered[p] = tampered[p] == 'A' ? 'B' : 'A';
  blob.write(tampered);
  REQUIRE((*engine)->reload(config).ok());
  (*engine)->wait_idle();
  CHECK((*engine)->snapshot()->version == 1);
  CHECK((*engine)->ready());
  std::string text = metrics.render();
  CHECK(text.find("edgeward_rules_refusals_total{code=\"blob.bad_signature\"} 1") !=
        std::string::npos);
  json::JsonWriter w;
  (*engine)->write_status(w);
  CHECK(w.str().find("\"last_refusal\":{\"code\":\"blob.bad_signature\"") != std::string::npos);
}

TEST_CASE("without valid rules, fail_mode closed answers 503 and open forwards uninspected") {
  MetricsRegistry metrics;
  daemon::Config config;
  config.rules.file = "/nonexistent/blob.json";
  auto closed = InspectionEngine::create(config, metrics, false);
  REQUIRE(closed.ok());
  CHECK_FALSE((*closed)->ready());
  Request r("hi");
  auto x = (*closed)->begin(r.route, r.head);
  REQUIRE(x);
  CHECK_FALSE(x->wants_request_body());
  auto v = x->decide_request(r.head, {});
  REQUIRE(v.kind == daemon::RequestVerdict::Kind::answer);
  CHECK(v.answer.status == 503);

  MetricsRegistry metrics2;
  config.fail_mode = "open";
  auto open = InspectionEngine::create(config, metrics2, false);
  REQUIRE(open.ok());
  CHECK((*open)->begin(r.route, r.head) == nullptr);
  CHECK(metrics2.render().find("edgeward_inspection_fail_open_total 1") != std::string::npos);
}

TEST_CASE("events wait in the bounded memory queue when there is no store, without payload") {
  MetricsRegistry metrics;
  daemon::Config config;
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  Request r("key AKIA4XCIVWF6E2B7AYYA");
  {
    auto x = (*engine)->begin(r.route, r.head);
    auto v = x->decide_request(r.head, r.body);
    CHECK(v.kind == daemon::RequestVerdict::Kind::answer);
    x->on_complete(403);
  }
  auto events = (*engine)->events().drain();
  REQUIRE(events.size() == 1);
  CHECK(events[0].reason_code == "DLP.SECRET.AWS_ACCESS_KEY");
  CHECK(events[0].upstream == "openai");
  CHECK(metrics.render().find("edgeward_decisions_total{reason_code=\"DLP.SECRET.AWS_ACCESS_KEY\","
                              "action=\"block\"} 1") != std::string::npos);
  CHECK(metrics.render().find("edgeward_inspection_duration_seconds_count 1") != std::string::npos);
}

TEST_CASE("the hook asks for identity encoding and refuses compressed responses") {
  MetricsRegistry metrics;
  daemon::Config config;
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  Request r("hello");
  r.head.headers.add("Accept-Encoding", "gzip, br");
  auto x = (*engine)->begin(r.route, r.head);
  auto v = x->decide_request(r.head, r.body);
  CHECK(v.kind == daemon::RequestVerdict::Kind::allow);
  CHECK_FALSE(r.head.headers.has("Accept-Encoding"));
  http::ResponseHead resp;
  resp.headers.add("Content-Type", "application/json");
  resp.headers.add("Content-Encoding", "gzip");
  CHECK(x->on_response_head(resp) == daemon::ResponseMode::buffer);
  auto rv = x->decide_response("\x1f\x8b binary");
  CHECK(rv.kind == daemon::ResponseVerdict::Kind::answer);

  auto y = (*engine)->begin(r.route, r.head);
  (void)y->decide_request(r.head, r.body);
  http::ResponseHead sse;
  sse.headers.add("Content-Type", "text/event-stream; charset=utf-8");
  CHECK(y->on_response_head(sse) == daemon::ResponseMode::stream);
  // A file from an endpoint that is not a model's passes as it streams...
  Request download("hello");
  download.head.target = "/v1/files/file-1/content";
  download.route.path = download.head.target;
  auto z = (*engine)->begin(download.route, download.head);
  (void)z->decide_request(download.head, download.body);
  http::ResponseHead file;
  file.headers.add("Content-Type", "application/octet-stream");
  CHECK(z->on_response_head(file) == daemon::ResponseMode::pass);
  // ...but a model endpoint's answer in another type is buffered and scanned as raw bytes.
  for (const char* type : {"text/plain", "text/json", "application/octet-stream"}) {
    INFO(type);
    auto w = (*engine)->begin(r.route, r.head);
    (void)w->decide_request(r.head, r.body);
    http::ResponseHead odd;
    odd.headers.add("Content-Type", type);
    CHECK(w->on_response_head(odd) == daemon::ResponseMode::buffer);
    auto v = w->decide_response(std::string("data: {\"choices\":[{\"delta\":{\"content\":\"") +
                                kIban + "\"}}]}\n\n");
    CHECK(v.kind != daemon::ResponseVerdict::Kind::allow);
  }
}

TEST_CASE("a stream sent as JSON is read as one even with junk lines and CRLF or CR framing") {
  MetricsRegistry metrics;
  daemon::Config config;
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  Request r("hello");
  auto sse = [](std::string_view text, std::string_view eol) {
    return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + std::string(text) +
           "\"}}]}" + std::string(eol) + std::string(eol);
  };
  const std::string junk_first = "x\n" + sse("key AKIAQWER", "\n") + sse("TYUIOPASDFGH ok", "\n");
  const std::string crlf = sse("key AKIAQWER", "\r\n") + sse("TYUIOPASDFGH ok", "\r\n");
  const std::string cr = "x\r" + sse("key AKIAQWER", "\r") + sse("TYUIOPASDFGH ok", "\r");
  const std::string ndjson_junk_last =
      "{\"message\":{\"content\":\"key AKIAQWER\"}}\n{\"message\":{\"content\":"
      "\"TYUIOPASDFGH\"}}\n0\n";
  // The SSE bodies end on the key; the NDJSON one on its junk line, which its own reading
  // cannot parse (the stream fails closed before the generic reading).
  const std::pair<std::string, std::string> cases[] = {{junk_first, "DLP.SECRET.AWS_ACCESS_KEY"},
                                                       {crlf, "DLP.SECRET.AWS_ACCESS_KEY"},
                                                       {cr, "DLP.SECRET.AWS_ACCESS_KEY"},
                                                       {ndjson_junk_last, "unparseable stream"}};
  for (const auto& [body, answer] : cases) {
    INFO(body);
    auto x = (*engine)->begin(r.route, r.head);
    (void)x->decide_request(r.head, r.body);
    http::ResponseHead head;
    head.headers.add("Content-Type", "application/json");
    REQUIRE(x->on_response_head(head) == daemon::ResponseMode::buffer);
    auto v = x->decide_response(body);
    REQUIRE(v.kind == daemon::ResponseVerdict::Kind::rewrite);
    CHECK(v.body.find("AKIAQWER") == std::string::npos);
    CHECK(v.body.find("TYUIOPASDFGH") == std::string::npos);
    CHECK(v.body.find(answer) != std::string::npos);
  }
  // A pretty-printed JSON array of objects is one document: answered as JSON, not as a stream.
  auto y = (*engine)->begin(r.route, r.head);
  (void)y->decide_request(r.head, r.body);
  http::ResponseHead head;
  head.headers.add("Content-Type", "application/json");
  REQUIRE(y->on_response_head(head) == daemon::ResponseMode::buffer);
  CHECK(y->decide_response("[\n{\"a\":1},\n{\"b\":2}\n]").kind ==
        daemon::ResponseVerdict::Kind::allow);
}

TEST_CASE("a stream sent as JSON is read in its dialect too: a denied tool call ends it") {
  MetricsRegistry metrics;
  daemon::Config config;
  rules::SecretKey key = rules::generate_secret_key();
  TempFile blob;
  blob.write(signed_blob(key, 1));
  config.rules.file = blob.path;
  config.rules.trusted_keys = {b64(key.public_key())};
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  (*engine)->wait_idle();
  REQUIRE((*engine)->ready());
  Request r("hello");
  auto x = (*engine)->begin(r.route, r.head);
  (void)x->decide_request(r.head, r.body);
  http::ResponseHead head;
  head.headers.add("Content-Type", "application/json");
  REQUIRE(x->on_response_head(head) == daemon::ResponseMode::buffer);
  auto v = x->decide_response(
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
      "\"function\":{\"name\":\"rm_rf\",\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n");
  REQUIRE(v.kind == daemon::ResponseVerdict::Kind::rewrite);
  CHECK(v.body.find("POLICY.TOOL_DENIED") != std::string::npos);
  CHECK(v.body.find("rm_rf") == std::string::npos);
}

TEST_CASE("a UTF-16 JSON body is refused on any path that says it is JSON") {
  MetricsRegistry metrics;
  daemon::Config config;
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  Request r("hello");
  r.head.target = "/v1/rerank";  // not a model endpoint the dialects know
  r.route.path = r.head.target;
  r.head.headers.add("Content-Type", "application/json");
  std::string wide;
  for (char c : std::string(R"({"query":"key AKIAQWERTYUIOPASDFGH"})")) {
    wide += c;
    wide += '\0';
  }
  auto x = (*engine)->begin(r.route, r.head);
  auto v = x->decide_request(r.head, wide);
  REQUIRE(v.kind == daemon::RequestVerdict::Kind::answer);
  CHECK(v.answer.status == 403);
  CHECK(v.answer.body.find("uninspectable request encoding") != std::string::npos);
  // The same bytes typed as a file are not JSON: they pass (uploads are not decoded).
  Request f("hello");
  f.head.target = "/v1/rerank";
  f.route.path = f.head.target;
  f.head.headers.add("Content-Type", "application/octet-stream");
  auto y = (*engine)->begin(f.route, f.head);
  CHECK(y->decide_request(f.head, wide).kind != daemon::RequestVerdict::Kind::answer);
}

TEST_CASE("a compressed request body is refused with 403, never forwarded unread") {
  MetricsRegistry metrics;
  daemon::Config config;
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  for (const char* coding : {"gzip", "deflate", "br", "identity, gzip", "x-custom"}) {
    Request r("hello");
    r.head.headers.add("Content-Encoding", coding);
    auto x = (*engine)->begin(r.route, r.head);
    auto v = x->decide_request(r.head, r.body);
    INFO(coding);
    REQUIRE(v.kind == daemon::RequestVerdict::Kind::answer);
    CHECK(v.answer.status == 403);
    CHECK(v.answer.headers.get("Edgeward-Reason") == "POLICY.CUSTOM");
    CHECK(v.answer.body.find("uninspectable request encoding") != std::string::npos);
  }
  // A first field saying identity does not hide a second one saying gzip.
  Request twice("hello");
  twice.head.headers.add("Content-Encoding", "identity");
  twice.head.headers.add("Content-Encoding", "gzip");
  auto x = (*engine)->begin(twice.route, twice.head);
  CHECK(x->decide_request(twice.head, twice.body).kind == daemon::RequestVerdict::Kind::answer);
  // identity is no encoding at all.
  Request plain("hello");
  plain.head.headers.add("Content-Encoding", "identity");
  auto y = (*engine)->begin(plain.route, plain.head);
  CHECK(y->decide_request(plain.head, plain.body).kind == daemon::RequestVerdict::Kind::allow);
}

TEST_CASE("a response with a second Content-Encoding or Content-Type field is refused") {
  MetricsRegistry metrics;
  daemon::Config config;
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  Request r("hello");
  auto x = (*engine)->begin(r.route, r.head);
  (void)x->decide_request(r.head, r.body);
  http::ResponseHead two_codings;
  two_codings.headers.add("Content-Type", "application/json");
  two_codings.headers.add("Content-Encoding", "identity");
  two_codings.headers.add("Content-Encoding", "gzip");
  CHECK(x->on_response_head(two_codings) == daemon::ResponseMode::buffer);
  auto v = x->decide_response("\x1f\x8b binary");
  REQUIRE(v.kind == daemon::ResponseVerdict::Kind::answer);
  CHECK(v.answer.status == 403);

  auto y = (*engine)->begin(r.route, r.head);
  (void)y->decide_request(r.head, r.body);
  http::ResponseHead two_types;
  two_types.headers.add("Content-Type", "text/plain");
  two_types.headers.add("Content-Type", "text/event-stream");
  CHECK(y->on_response_head(two_types) == daemon::ResponseMode::buffer);
  CHECK(y->decide_response("data: {}\n\n").kind == daemon::ResponseVerdict::Kind::answer);
}

TEST_CASE("an active blob that expires keeps being enforced and the status says stale") {
  MetricsRegistry metrics;
  rules::SecretKey key = rules::generate_secret_key();
  TempFile blob;
  blob.write(signed_blob(key, 1, std::chrono::milliseconds(800)));
  daemon::Config config;
  config.rules.file = blob.path;
  config.rules.trusted_keys = {b64(key.public_key())};
  auto engine = InspectionEngine::create(config, metrics, false);
  REQUIRE(engine.ok());
  json::JsonWriter before;
  (*engine)->write_status(before);
  CHECK(before.str().find("\"state\":\"active\"") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  json::JsonWriter after;
  (*engine)->write_status(after);
  CHECK(after.str().find("\"state\":\"stale\"") != std::string::npos);
  CHECK((*engine)->ready());
  Request r(kIban);
  auto x = (*engine)->begin(r.route, r.head);
  CHECK(x->decide_request(r.head, r.body).kind == daemon::RequestVerdict::Kind::answer);
}
