#include "rules/taxonomy.hpp"

#include <array>

namespace edgeward::rules {

namespace {

using enum Severity;
using D = Detection;

// DESIGN §3.1. Append only; never rename a code.
constexpr std::array kCodes = {
    // DLP.PII: personal data.
    ReasonCode{"DLP.PII.IBAN", high, D::pattern,
               "International bank account number (ISO 13616), mod-97 checked, per-country length"},
    ReasonCode{"DLP.PII.CREDIT_CARD", high, D::pattern,
               "Payment card number: Luhn checksum and a known issuer (IIN) range and length"},
    ReasonCode{
        "DLP.PII.US_SSN", high, D::pattern,
        "US Social Security number (area, group and serial rules; never-issued numbers excluded)"},
    ReasonCode{"DLP.PII.US_ITIN", high, D::pattern,
               "US Individual Taxpayer Identification Number (9XX-YY-XXXX, YY in 50-65, 70-88, "
               "90-92, 94-99)"},
    ReasonCode{"DLP.PII.US_BANK_ROUTING", medium, D::pattern,
               "US ABA routing transit number (3-7-1 checksum), next to banking words"},
    ReasonCode{"DLP.PII.EMAIL", low, D::pattern,
               "E-mail address (reserved documentation domains excluded)"},
    ReasonCode{"DLP.PII.PHONE", low, D::pattern,
               "Telephone number (E.164 or North American format)"},
    ReasonCode{"DLP.PII.IP_ADDRESS", low, D::pattern, "IPv4 address (not version numbers)"},
    ReasonCode{"DLP.PII.UK_NINO", high, D::pattern,
               "UK National Insurance number (valid prefix letters and suffix)"},
    ReasonCode{"DLP.PII.SWIFT_BIC", low, D::pattern,
               "SWIFT/BIC bank identifier code, next to banking words"},
    ReasonCode{"DLP.PII.CRYPTO_WALLET", medium, D::pattern,
               "Cryptocurrency address: base58check, bech32/bech32m or EIP-55 checked"},
    ReasonCode{"DLP.PII.PASSPORT", high, D::pattern, "Passport number, next to the word passport"},
    ReasonCode{"DLP.PII.DATE_OF_BIRTH", medium, D::pattern,
               "Calendar date next to birth words (born, date of birth, DOB)"},
    // DLP.SECRET: credentials.
    ReasonCode{"DLP.SECRET.AWS_ACCESS_KEY", critical, D::pattern,
               "AWS access key id (AKIA/ASIA...)"},
    ReasonCode{"DLP.SECRET.AWS_SECRET_KEY", critical, D::pattern,
               "AWS secret access key (40 characters next to its name)"},
    ReasonCode{"DLP.SECRET.GCP_API_KEY", high, D::pattern,
               "Google Cloud / Google API key (AIza...)"},
    ReasonCode{"DLP.SECRET.GCP_SERVICE_ACCOUNT", critical, D::pattern,
               "Google Cloud service-account JSON key file"},
    ReasonCode{"DLP.SECRET.AZURE_STORAGE_KEY", critical, D::pattern,
               "Azure storage account key (AccountKey=... in a connection string)"},
    ReasonCode{"DLP.SECRET.GITHUB_TOKEN", critical, D::pattern,
               "GitHub token (ghp_/gho_/ghu_/ghs_/ghr_ with CRC32 checksum, github_pat_)"},
    ReasonCode{"DLP.SECRET.GITLAB_TOKEN", critical, D::pattern,
               "GitLab token (glpat- and the other gl*- prefixes)"},
    ReasonCode{"DLP.SECRET.SLACK_TOKEN", critical, D::pattern,
               "Slack API token (xoxb-, xoxp-, xapp-, ...)"},
    ReasonCode{"DLP.SECRET.SLACK_WEBHOOK", high, D::pattern, "Slack incoming webhook URL"},
    ReasonCode{"DLP.SECRET.STRIPE_KEY", critical, D::pattern,
               "Stripe live secret or restricted key"},
    ReasonCode{"DLP.SECRET.OPENAI_API_KEY", critical, D::pattern, "OpenAI API key"},
    ReasonCode{"DLP.SECRET.ANTHROPIC_API_KEY", critical, D::pattern, "Anthropic API key"},
    ReasonCode{"DLP.SECRET.HUGGINGFACE_TOKEN", high, D::pattern,
               "Hugging Face access token (hf_...)"},
    ReasonCode{"DLP.SECRET.NPM_TOKEN", high, D::pattern, "npm access token (npm_...)"},
    ReasonCode{"DLP.SECRET.TWILIO_KEY", high, D::pattern, "Twilio API key SID (SK + 32 hex)"},
    ReasonCode{"DLP.SECRET.SENDGRID_KEY", high, D::pattern, "SendGrid API key (SG.xxx.yyy)"},
    ReasonCode{"DLP.SECRET.PRIVATE_KEY", critical, D::pattern, "PEM or OpenSSH private key block"},
    ReasonCode{"DLP.SECRET.JWT", high, D::pattern,
               "JSON Web Token whose header decodes to JSON with \"alg\""},
    ReasonCode{"DLP.SECRET.DB_CONNECTION_STRING", critical, D::pattern,
               "Database URL with an embedded password (placeholders excluded)"},
    ReasonCode{"DLP.SECRET.PASSWORD_ASSIGNMENT", high, D::pattern,
               "password/secret/token assigned a literal value (placeholders excluded)"},
    // INJECTION: prompt injection.
    ReasonCode{"INJECTION.PROMPT_OVERRIDE", high, D::pattern,
               "Instruction to ignore or override previous/system instructions"},
    ReasonCode{"INJECTION.ROLE_HIJACK", medium, D::pattern,
               "Attempt to re-assign the model's role to an unrestricted persona"},
    ReasonCode{"INJECTION.SYSTEM_PROMPT_EXTRACTION", medium, D::pattern,
               "Request to reveal the system prompt or hidden instructions"},
    ReasonCode{"INJECTION.JAILBREAK_TEMPLATE", high, D::pattern,
               "Known jailbreak template (DAN, developer mode, ...)"},
    ReasonCode{"INJECTION.DELIMITER_SPOOFING", high, D::pattern,
               "Chat-template control tokens in text (<|im_start|>, [INST], <|eot_id|>, ...)"},
    ReasonCode{"INJECTION.INVISIBLE_UNICODE", high, D::pattern,
               "Unicode tag characters, bidi overrides or zero-width runs hiding text"},
    ReasonCode{"INJECTION.ENCODED_PAYLOAD", medium, D::pattern,
               "Long base64 run that decodes to readable text (smuggled instructions)"},
    ReasonCode{"INJECTION.INDIRECT_TOOL_RESULT", high, D::pattern,
               "Injection phrasing inside tool definitions, tool arguments or tool results"},
    // EGRESS: where data may go.
    ReasonCode{"EGRESS.UNAPPROVED_DOMAIN", high, D::policy,
               "URL host outside the egress_domains allow list"},
    ReasonCode{"EGRESS.MARKDOWN_IMAGE_EXFIL", high, D::pattern,
               "Markdown image whose URL carries a query string (data exfiltration on render)"},
    ReasonCode{"EGRESS.IP_LITERAL_URL", medium, D::pattern,
               "http(s) URL whose host is an IPv4 literal"},
    ReasonCode{"EGRESS.UPSTREAM_DENIED", high, D::gateway,
               "Request for an upstream or route the gateway is not configured to reach"},
    // POLICY: site policy and gateway state.
    ReasonCode{"POLICY.MODEL_DENIED", medium, D::policy,
               "Model not allowed by a model_permission rule"},
    ReasonCode{"POLICY.TOOL_DENIED", medium, D::policy,
               "Tool not allowed by a tool_permission rule"},
    ReasonCode{"POLICY.BODY_TOO_LARGE", medium, D::policy,
               "Body larger than a body_size rule or limits.max_request_body"},
    ReasonCode{"POLICY.MAX_TOKENS_EXCEEDED", low, D::policy,
               "Requested max tokens above a max_tokens rule's limit"},
    ReasonCode{"POLICY.RULES_UNAVAILABLE", critical, D::gateway,
               "No valid rule set is loaded and fail_mode is closed"},
    ReasonCode{"POLICY.CUSTOM", medium, D::pattern,
               "Site-defined rule without a more specific code"},
};

}  // namespace

std::span<const ReasonCode> reason_codes() {
  return kCodes;
}

const ReasonCode* find_reason_code(std::string_view code) {
  for (const auto& c : kCodes) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::critical:
      return "critical";
    case Severity::high:
      return "high";
    case Severity::medium:
      return "medium";
    case Severity::low:
      return "low";
    case Severity::info:
      return "info";
  }
  return "info";
}

std::string_view to_string(Action a) {
  switch (a) {
    case Action::block:
      return "block";
    case Action::redact:
      return "redact";
    case Action::monitor:
      return "monitor";
  }
  return "monitor";
}

std::string_view to_string(Detection d) {
  switch (d) {
    case Detection::pattern:
      return "pattern";
    case Detection::policy:
      return "policy rule";
    case Detection::gateway:
      return "gateway";
  }
  return "gateway";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (Severity s : {critical, high, medium, low, info}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::optional<Action> parse_action(std::string_view text) {
  for (Action a : {Action::block, Action::redact, Action::monitor}) {
    if (to_string(a) == text) return a;
  }
  return std::nullopt;
}

std::string reason_codes_markdown_table() {
  std::string out = "| code | default severity | detected by | description |\n|---|---|---|---|\n";
  for (const auto& c : kCodes) {
    out += "| `";
    out += c.code;
    out += "` | ";
    out += to_string(c.default_severity);
    out += " | ";
    out += to_string(c.detection);
    out += " | ";
    out += c.description;
    out += " |\n";
  }
  return out;
}

}  // namespace edgeward::rules
