#include "store/event_json.hpp"

#include "core/json.hpp"

namespace edgeward::store {

void append_event_json(std::string& out, const Event& e, bool with_uploaded) {
  json::JsonWriter w(out);
  w.begin_object();
  w.field("id", e.id);
  w.key("agent_id");
  if (e.agent_id) {
    w.string(*e.agent_id);
  } else {
    w.null();
  }
  w.field("rule_id", e.rule_id);
  w.field("scope", to_string(e.scope));
  w.field("matched_in", to_string(e.matched_in));
  w.field("request_method", e.request_method);
  w.field("occurred_at", timefmt::format_rfc3339(e.occurred_at));
  w.field("reason_code", e.reason_code);
  w.field("severity", to_string(e.severity));
  w.field("retry", e.retry);
  w.field("layer", to_string(e.layer));
  w.field("uid", e.uid);
  w.field("request_id", e.request_id);
  w.field("action", to_string(e.action));
  w.field("path_hash", e.path_hash);
  w.field("rule_version", e.rule_version);
  w.field("model", e.model);
  w.field("upstream", e.upstream);
  w.key("session");
  if (e.session) {
    w.string(*e.session);
  } else {
    w.null();
  }
  if (with_uploaded) w.field("uploaded", e.uploaded);
  w.end_object();
}

std::string event_json(const Event& e, bool with_uploaded) {
  std::string out;
  append_event_json(out, e, with_uploaded);
  return out;
}

}  // namespace edgeward::store
