#include "daemon/inspect/answers.hpp"

#include "core/json.hpp"

namespace edgeward::inspect {

std::string block_message(std::string_view reason_code, std::string_view rule_name) {
  std::string m = "blocked by edgeward: ";
  m.append(reason_code);
  m.append(" (rule ");
  m.append(rule_name);
  m.push_back(')');
  return m;
}

namespace {

std::string openai_shape(std::string_view message, std::string_view type, std::string_view code,
                         std::string_view event_uid) {
  json::JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.field("message", message).field("type", type).field("code", code);
  w.key("param").null();
  if (event_uid.empty()) {
    w.key("event").null();
  } else {
    w.field("event", event_uid);
  }
  w.end_object().end_object();
  return w.take();
}

std::string anthropic_shape(std::string_view type, std::string_view message) {
  json::JsonWriter w;
  w.begin_object().field("type", "error").key("error").begin_object();
  w.field("type", type).field("message", message);
  w.end_object().end_object();
  return w.take();
}

}  // namespace

std::string block_body(Dialect dialect, std::string_view reason_code, std::string_view rule_name,
                       std::string_view event_uid) {
  std::string message = block_message(reason_code, rule_name);
  if (dialect == Dialect::kAnthropic) return anthropic_shape("permission_error", message);
  return openai_shape(message, "edgeward_block", reason_code, event_uid);
}

std::string unavailable_body(Dialect dialect) {
  constexpr std::string_view kCode = "POLICY.RULES_UNAVAILABLE";
  std::string message = "blocked by edgeward: POLICY.RULES_UNAVAILABLE (no valid rules loaded)";
  if (dialect == Dialect::kAnthropic) return anthropic_shape("api_error", message);
  return openai_shape(message, "edgeward_unavailable", kCode, {});
}

std::string stream_block_event(Dialect dialect, StreamFormat format, std::string_view reason_code,
                               std::string_view rule_name, std::string_view event_uid) {
  if (format == StreamFormat::kNdjson) {
    json::JsonWriter w;
    w.begin_object().field("error", block_message(reason_code, rule_name));
    w.field("code", reason_code).field("event", event_uid).end_object();
    std::string line = w.take();
    line.push_back('\n');
    return line;
  }
  std::string out;
  if (dialect == Dialect::kAnthropic) out.append("event: error\n");
  out.append("data: ");
  out.append(block_body(dialect, reason_code, rule_name, event_uid));
  out.append("\n\n");
  return out;
}

std::string stream_failure_event(Dialect dialect, StreamFormat format, std::string_view message,
                                 std::string_view code) {
  constexpr std::string_view kType = "edgeward_upstream_error";
  json::JsonWriter w;
  if (format == StreamFormat::kNdjson) {
    w.begin_object().field("error", message).field("code", code).end_object();
    std::string line = w.take();
    line.push_back('\n');
    return line;
  }
  std::string out;
  if (dialect == Dialect::kAnthropic) {
    out.append("event: error\ndata: ");
    out.append(anthropic_shape(kType, message));
  } else {
    w.begin_object().key("error").begin_object();
    w.field("message", message).field("type", kType).field("code", code);
    w.key("param").null();
    w.end_object().end_object();
    out.append("data: ");
    out.append(w.take());
  }
  out.append("\n\n");
  return out;
}

}  // namespace edgeward::inspect
