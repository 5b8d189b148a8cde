#pragma once
// Shared fixtures for the inspection tests: small rule packs compiled once per process, and
// the facts of a typical exchange.

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

#include "daemon/inspect/exchange.hpp"
#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

namespace inspect_test {

// IBAN (block), AWS access key (block, priority 10), a US SSN-like "secret" (redact),
// a canary phrase (monitor), tool and model permissions, a max_tokens limit.
inline constexpr const char* kTestPack = R"(apiVersion: edgeward/v1
kind: RulePack
name: test
rules:
  - id: 11111111-1111-4111-8111-111111111111
    name: IBAN
    reason_code: DLP.PII.IBAN
    action: block
    priority: 100
    detect:
      patterns: ['\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b']
      validator: iban
  - id: 22222222-2222-4222-8222-222222222222
    name: AWS access key
    reason_code: DLP.SECRET.AWS_ACCESS_KEY
    action: block
    priority: 10
    matched_in: [headers, body, url, tools]
    detect:
      patterns: ['\b(?:AKIA|ASIA)[A-Z2-7]{16}\b']
  - id: 33333333-3333-4333-8333-333333333333
    name: Secret token
    reason_code: DLP.SECRET.OPENAI_API_KEY
    action: redact
    priority: 50
    matched_in: [headers, body, tools]
    detect:
      patterns: ['sk-test-[a-z0-9]{12}']
  - id: 44444444-4444-4444-8444-444444444444
    name: Canary phrase
    reason_code: POLICY.CUSTOM
    action: monitor
    priority: 200
    detect:
      patterns: ['canary-phrase-[0-9]{1,8}']
  - id: 55555555-5555-4555-8555-555555555555
    name: Approved tools
    reason_code: POLICY.TOOL_DENIED
    kind: tool_permission
    allowed_tools: [web_search, lookup, pay]
  - id: 66666666-6666-4666-8666-666666666666
    name: Approved models
    reason_code: POLICY.MODEL_DENIED
    kind: model_permission
    denied_models: ['forbidden-*']
  - id: 77777777-7777-4777-8777-777777777777
    name: Token budget
    reason_code: POLICY.MAX_TOKENS_EXCEEDED
    kind: max_tokens
    limit: 4096
  - id: 88888888-8888-4888-8888-888888888888
    name: Egress
    reason_code: EGRESS.UNAPPROVED_DOMAIN
    kind: egress_domains
    allowed_domains: [example.com]
)";

// Compiles a pack once per (text, mode) per process.
inline std::shared_ptr<const edgeward::rules::CompiledRules> compiled(const std::string& yaml,
                                                                      bool monitor = false) {
  static std::map<std::pair<std::string, bool>,
                  std::shared_ptr<const edgeward::rules::CompiledRules>>
      cache;
  auto key = std::make_pair(yaml, monitor);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto pack = edgeward::rules::parse_pack(yaml, "<test>");
  if (!pack.ok()) FAIL(pack.error().message);
  edgeward::rules::CompileOptions options;
  options.mode = monitor ? edgeward::rules::EnforcementMode::monitor
                         : edgeward::rules::EnforcementMode::enforce;
  auto c = edgeward::rules::compile_rules(std::move(*pack), options);
  if (!c.ok()) FAIL(c.error().message);
  cache[key] = *c;
  return *c;
}

inline std::shared_ptr<const edgeward::rules::CompiledRules> test_rules(bool monitor = false) {
  return compiled(kTestPack, monitor);
}

inline std::shared_ptr<const edgeward::rules::CompiledRules> default_rules() {
  return compiled(std::string(edgeward::rules::default_pack_yaml()));
}

inline edgeward::rules::Scanner& scanner() {
  thread_local edgeward::rules::Scanner s;
  return s;
}

inline edgeward::inspect::ExchangeFacts facts(edgeward::inspect::Route route,
                                              std::string target = "/v1/chat/completions") {
  edgeward::inspect::ExchangeFacts f;
  f.route = route;
  f.method = "POST";
  f.target = std::move(target);
  f.upstream = "openai";
  return f;
}

inline edgeward::inspect::Route openai_chat() {
  return {edgeward::inspect::Dialect::kOpenAI, edgeward::inspect::Endpoint::kChatCompletions};
}
inline edgeward::inspect::Route anthropic_messages() {
  return {edgeward::inspect::Dialect::kAnthropic, edgeward::inspect::Endpoint::kMessages};
}

inline constexpr const char* kIban = "DE89 3704 0044 0532 0130 00";
inline constexpr const char* kAwsKey = "AKIAQWERTYUIOPASDFGH";

}  // namespace inspect_test
