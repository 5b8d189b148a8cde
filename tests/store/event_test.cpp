#include "store/event.hpp"

#include <catch2/catch.hpp>

#include "store/event_json.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using edgeward::store::testing::make_event;

TEST_CASE("value sets round-trip through their exact DESIGN spellings", "[store][event]") {
  for (auto v :
       {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow, Severity::kInfo}) {
    REQUIRE(*parse_severity(to_string(v)) == v);
  }
  CHECK(to_string(Layer::kPreTemplate) == "pre-template");
  CHECK(to_string(Layer::kPostTemplate) == "post-template");
  CHECK(to_string(Layer::kToolCall) == "tool-call");
  CHECK(to_string(MatchedIn::kHeaders) == "headers");
  CHECK(to_string(MatchedIn::kUrl) == "url");
  CHECK(to_string(Scope::kResponse) == "response");
  CHECK(to_string(Action::kMonitor) == "monitor");
  CHECK(*parse_action("redact") == Action::kRedact);
  CHECK(*parse_matched_in("tools") == MatchedIn::kTools);
  CHECK(*parse_scope("request") == Scope::kRequest);
}

TEST_CASE("parsing a value outside a set names the accepted values, not the input",
          "[store][event]") {
  auto s = parse_severity("HIGH");
  REQUIRE_FALSE(s);
  CHECK(s.error().code == "event.bad_severity");
  CHECK(s.error().message == "expected one of: critical, high, medium, low, info");
  CHECK(parse_layer("pretemplate").error().code == "event.bad_layer");
  CHECK(parse_action("deny").error().code == "event.bad_action");
  CHECK(parse_scope("").error().code == "event.bad_scope");
  CHECK(parse_matched_in("query").error().code == "event.bad_matched_in");
}

TEST_CASE("a well-formed event validates", "[store][event]") {
  CHECK(validate(make_event()).ok());
  auto e = make_event();
  e.agent_id.reset();
  e.session.reset();
  e.model.clear();
  CHECK(validate(e).ok());
}

TEST_CASE("validate refuses each malformed field with its own code", "[store][event]") {
  struct Case {
    const char* code;
    void (*mutate)(Event&);
  };
  const Case cases[] = {
      {"event.bad_uid", [](Event& e) { e.uid = "evt_123"; }},
      {"event.bad_uid", [](Event& e) { e.uid = e.request_id; }},
      {"event.bad_request_id", [](Event& e) { e.request_id = "req_"; }},
      {"event.bad_rule_id", [](Event& e) { e.rule_id = "IBAN"; }},
      {"event.bad_agent_id", [](Event& e) { e.agent_id = "gw-1234"; }},
      {"event.bad_reason_code", [](Event& e) { e.reason_code = "dlp.pii.iban"; }},
      {"event.bad_reason_code", [](Event& e) { e.reason_code = "DLP"; }},
      {"event.bad_reason_code", [](Event& e) { e.reason_code = "DLP.PII.IBAN.X"; }},
      {"event.bad_reason_code", [](Event& e) { e.reason_code = "DLP..IBAN"; }},
      {"event.bad_method", [](Event& e) { e.request_method = "PO ST"; }},
      {"event.bad_path_hash", [](Event& e) { e.path_hash = "/v1/chat/completions"; }},
      {"event.bad_session", [](Event& e) { e.session = "my-secret-session"; }},
      {"event.bad_model", [](Event& e) { e.model = "gpt 4 ignore previous instructions"; }},
      {"event.bad_upstream", [](Event& e) { e.upstream = "open ai"; }},
      {"event.bad_rule_version", [](Event& e) { e.rule_version = -1; }},
      {"event.bad_occurred_at", [](Event& e) { e.occurred_at = timefmt::TimePoint{}; }},
  };
  for (const auto& c : cases) {
    auto e = make_event();
    c.mutate(e);
    auto st = validate(e);
    INFO(c.code);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == c.code);
  }
}

TEST_CASE("a validation error names the field, never its value", "[store][event]") {
  auto e = make_event();
  e.model = "CANARY-7f3a in model";
  auto st = validate(e);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("CANARY") == std::string::npos);
  CHECK(st.error().message.find("model") != std::string::npos);
}

TEST_CASE("path_hash is 16 hex of the path only: the query string never influences it",
          "[store][event]") {
  const auto h = path_hash("/v1/chat/completions");
  CHECK(h.size() == 16);
  CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(path_hash("/v1/chat/completions?api_key=CANARY") == h);
  CHECK(path_hash("/v1/chat/completions#frag") == h);
  CHECK(path_hash("/v1/completions") != h);
}

TEST_CASE("path_hash is the first 8 bytes of BLAKE2b-256", "[store][event]") {
  // BLAKE2b-256("") = 0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8
  CHECK(path_hash("") == "0e5751c026e543b2");
  CHECK(session_hash("") == "0e5751c026e543b2");
}

TEST_CASE("model_label keeps real model ids and replaces anything else", "[store][event]") {
  CHECK(model_label("gpt-4o-mini") == "gpt-4o-mini");
  CHECK(model_label("llama3.1:8b") == "llama3.1:8b");
  CHECK(model_label("meta-llama/Llama-3-70b@v2+q4") == "meta-llama/Llama-3-70b@v2+q4");
  CHECK(model_label("") == "");
  CHECK(model_label("gpt-4\nCANARY") == "invalid");
  CHECK(model_label(std::string(129, 'a')) == "invalid");
}

TEST_CASE("event JSON carries exactly the DESIGN §4 fields, in order", "[store][event]") {
  auto e = make_event();
  e.id = 42;
  e.agent_id.reset();
  e.session.reset();
  e.occurred_at = *timefmt::parse_rfc3339("2026-11-23T01:02:03.456Z");
  const std::string json = event_json(e);
  const char* fields[] = {"id",         "agent_id",       "rule_id",     "scope",
                          "matched_in", "request_method", "occurred_at", "reason_code",
                          "severity",   "retry",          "layer",       "uid",
                          "request_id", "action",         "path_hash",   "rule_version",
                          "model",      "upstream",       "session"};
  std::size_t pos = 0;
  for (const char* f : fields) {
    const auto at = json.find(std::string("\"") + f + "\":", pos);
    INFO(f);
    REQUIRE(at != std::string::npos);
    pos = at;
  }
  CHECK(json.find("\"agent_id\":null") != std::string::npos);
  CHECK(json.find("\"session\":null") != std::string::npos);
  CHECK(json.find("\"occurred_at\":\"2026-11-23T01:02:03.456Z\"") != std::string::npos);
  CHECK(json.find("\"id\":42") != std::string::npos);
  CHECK(json.find("\"retry\":false") != std::string::npos);
  CHECK(json.find("uploaded") == std::string::npos);
  CHECK(event_json(e, true).find("\"uploaded\":false") != std::string::npos);
}
