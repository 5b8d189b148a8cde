#include "store/event_row.hpp"

#include <string>

namespace edgeward::store {

namespace {

// Column indexes of sql::kEventColumns.
enum Col : int {
  kId,
  kAgentId,
  kRuleId,
  kScope,
  kMatchedIn,
  kRequestMethod,
  kOccurredAt,
  kReasonCode,
  kSeverity,
  kRetry,
  kLayer,
  kUid,
  kRequestId,
  kAction,
  kPathHash,
  kRuleVersion,
  kModel,
  kUpstream,
  kSession,
  kUploaded,
};

Error bad_column(const char* column) {
  return make_error("store.bad_row", std::string("stored value of column '") + column +
                                         "' is outside its value set");
}

}  // namespace

Result<Event> decode_event_row(const sqlite::Statement::Run& run) {
  Event e;
  e.id = run.int64(kId);
  if (!run.is_null(kAgentId)) e.agent_id = std::string(run.text(kAgentId));
  e.rule_id = std::string(run.text(kRuleId));
  auto scope = parse_scope(run.text(kScope));
  if (!scope) return bad_column("scope");
  e.scope = *scope;
  auto matched_in = parse_matched_in(run.text(kMatchedIn));
  if (!matched_in) return bad_column("matched_in");
  e.matched_in = *matched_in;
  e.request_method = std::string(run.text(kRequestMethod));
  auto when = timefmt::parse_rfc3339(run.text(kOccurredAt));
  if (!when) return bad_column("occurred_at");
  e.occurred_at = *when;
  e.reason_code = std::string(run.text(kReasonCode));
  auto severity = parse_severity(run.text(kSeverity));
  if (!severity) return bad_column("severity");
  e.severity = *severity;
  e.retry = run.int64(kRetry) != 0;
  auto layer = parse_layer(run.text(kLayer));
  if (!layer) return bad_column("layer");
  e.layer = *layer;
  e.uid = std::string(run.text(kUid));
  e.request_id = std::string(run.text(kRequestId));
  auto action = parse_action(run.text(kAction));
  if (!action) return bad_column("action");
  e.action = *action;
  e.path_hash = std::string(run.text(kPathHash));
  e.rule_version = run.int64(kRuleVersion);
  e.model = std::string(run.text(kModel));
  e.upstream = std::string(run.text(kUpstream));
  if (!run.is_null(kSession)) e.session = std::string(run.text(kSession));
  e.uploaded = run.int64(kUploaded) != 0;
  return e;
}

}  // namespace edgeward::store
