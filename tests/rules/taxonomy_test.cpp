#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "rules/taxonomy.hpp"

using namespace edgeward::rules;

TEST_CASE("docs/reason-codes.md carries the taxonomy table verbatim") {
  std::ifstream in("docs/reason-codes.md");
  REQUIRE(in);
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO("regenerate the table in docs/reason-codes.md from rules/taxonomy.cpp:\n"
       << reason_codes_markdown_table());
  CHECK(doc.find(reason_codes_markdown_table()) != std::string::npos);
}

TEST_CASE("reason codes are unique and shaped FAMILY.NAME or FAMILY.CLASS.NAME") {
  std::set<std::string_view> seen;
  for (const auto& c : reason_codes()) {
    INFO(c.code);
    CHECK(seen.insert(c.code).second);
    int dots = 0;
    for (char ch : c.code) {
      if (ch == '.') {
        ++dots;
      } else {
        CHECK(((ch >= 'A' && ch <= 'Z') || ch == '_'));
      }
    }
    CHECK((dots == 1 || dots == 2));
    CHECK_FALSE(c.description.empty());
    CHECK(find_reason_code(c.code) == &c);
  }
}

TEST_CASE("every code named by DESIGN section 3.1 is in the taxonomy") {
  for (std::string_view code : {"DLP.PII.IBAN",
                                "DLP.PII.CREDIT_CARD",
                                "DLP.PII.US_SSN",
                                "DLP.PII.US_ITIN",
                                "DLP.PII.US_BANK_ROUTING",
                                "DLP.PII.EMAIL",
                                "DLP.PII.PHONE",
                                "DLP.PII.IP_ADDRESS",
                                "DLP.PII.UK_NINO",
                                "DLP.PII.SWIFT_BIC",
                                "DLP.PII.CRYPTO_WALLET",
                                "DLP.PII.PASSPORT",
                                "DLP.PII.DATE_OF_BIRTH",
                                "DLP.SECRET.AWS_ACCESS_KEY",
                                "DLP.SECRET.AWS_SECRET_KEY",
                                "DLP.SECRET.GCP_API_KEY",
                                "DLP.SECRET.GCP_SERVICE_ACCOUNT",
                                "DLP.SECRET.AZURE_STORAGE_KEY",
                                "DLP.SECRET.GITHUB_TOKEN",
                                "DLP.SECRET.GITLAB_TOKEN",
                                "DLP.SECRET.SLACK_TOKEN",
                                "DLP.SECRET.SLACK_WEBHOOK",
                                "DLP.SECRET.STRIPE_KEY",
                                "DLP.SECRET.OPENAI_API_KEY",
                                "DLP.SECRET.ANTHROPIC_API_KEY",
                                "DLP.SECRET.HUGGINGFACE_TOKEN",
                                "DLP.SECRET.NPM_TOKEN",
                                "DLP.SECRET.TWILIO_KEY",
                                "DLP.SECRET.SENDGRID_KEY",
                                "DLP.SECRET.PRIVATE_KEY",
                                "DLP.SECRET.JWT",
                                "DLP.SECRET.DB_CONNECTION_STRING",
                                "DLP.SECRET.PASSWORD_ASSIGNMENT",
                                "INJECTION.PROMPT_OVERRIDE",
                                "INJECTION.ROLE_HIJACK",
                                "INJECTION.SYSTEM_PROMPT_EXTRACTION",
                                "INJECTION.JAILBREAK_TEMPLATE",
                                "INJECTION.DELIMITER_SPOOFING",
                                "INJECTION.INVISIBLE_UNICODE",
                                "INJECTION.ENCODED_PAYLOAD",
                                "INJECTION.INDIRECT_TOOL_RESULT",
                                "EGRESS.UNAPPROVED_DOMAIN",
                                "EGRESS.MARKDOWN_IMAGE_EXFIL",
                                "EGRESS.IP_LITERAL_URL",
                                "EGRESS.UPSTREAM_DENIED",
                                "POLICY.MODEL_DENIED",
                                "POLICY.TOOL_DENIED",
                                "POLICY.BODY_TOO_LARGE",
                                "POLICY.MAX_TOKENS_EXCEEDED",
                                "POLICY.RULES_UNAVAILABLE",
                                "POLICY.CUSTOM"}) {
    INFO(code);
    CHECK(find_reason_code(code) != nullptr);
  }
  CHECK(find_reason_code("DLP.PII.NOPE") == nullptr);
}

TEST_CASE("severity and action names round-trip") {
  for (auto s :
       {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info}) {
    CHECK(parse_severity(to_string(s)) == s);
  }
  for (auto a : {Action::block, Action::redact, Action::monitor})
    CHECK(parse_action(to_string(a)) == a);
  CHECK_FALSE(parse_severity("urgent").has_value());
  CHECK_FALSE(parse_action("allow").has_value());
}
