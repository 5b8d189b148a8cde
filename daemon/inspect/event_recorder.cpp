#include "daemon/inspect/event_recorder.hpp"

#include <algorithm>

#include "core/ids.hpp"
#include "core/time.hpp"

namespace edgeward::inspect {

store::Severity to_store(rules::Severity s) {
  switch (s) {
    case rules::Severity::critical:
      return store::Severity::kCritical;
    case rules::Severity::high:
      return store::Severity::kHigh;
    case rules::Severity::medium:
      return store::Severity::kMedium;
    case rules::Severity::low:
      return store::Severity::kLow;
    case rules::Severity::info:
      return store::Severity::kInfo;
  }
  return store::Severity::kInfo;
}

store::Action to_store(rules::Action a) {
  switch (a) {
    case rules::Action::block:
      return store::Action::kBlock;
    case rules::Action::redact:
      return store::Action::kRedact;
    case rules::Action::monitor:
      return store::Action::kMonitor;
  }
  return store::Action::kMonitor;
}

rules::Surface to_rules(store::MatchedIn m) {
  switch (m) {
    case store::MatchedIn::kHeaders:
      return rules::Surface::headers;
    case store::MatchedIn::kBody:
      return rules::Surface::body;
    case store::MatchedIn::kUrl:
      return rules::Surface::url;
    case store::MatchedIn::kTools:
      return rules::Surface::tools;
  }
  return rules::Surface::body;
}

rules::Layer to_rules(store::Layer l) {
  switch (l) {
    case store::Layer::kPreTemplate:
      return rules::Layer::pre_template;
    case store::Layer::kPostTemplate:
      return rules::Layer::post_template;
    case store::Layer::kToolCall:
      return rules::Layer::tool_call;
  }
  return rules::Layer::pre_template;
}

EventRecorder::EventRecorder(const ExchangeFacts& facts) : facts_(facts) {}

void EventRecorder::make_request_facts() {
  if (!request_id_.empty()) return;
  request_id_ = ids::request_id();
  path_hash_ = store::path_hash(facts_.target);
  if (facts_.session_header) session_hash_ = store::session_hash(*facts_.session_header);
}

store::Event* EventRecorder::find(std::uint32_t rule_index) {
  for (std::size_t i = 0; i < rule_of_event_.size(); ++i) {
    if (rule_of_event_[i] == rule_index) return &events_[i];
  }
  return nullptr;
}

std::string_view EventRecorder::record(const rules::CompiledRules& rules,
                                       const rules::Finding& finding, store::Scope scope,
                                       store::MatchedIn matched_in, store::Layer layer) {
  if (store::Event* e = find(finding.rule_index)) return e->uid;
  if (std::find(taken_rules_.begin(), taken_rules_.end(), finding.rule_index) !=
      taken_rules_.end()) {
    return {};
  }
  if (events_.size() + taken_rules_.size() >= kMaxEvents) return {};
  make_request_facts();
  store::Event e;
  e.agent_id = facts_.agent_id;
  e.rule_id = std::string(finding.rule_id);
  e.scope = scope;
  e.matched_in = matched_in;
  e.request_method = facts_.method;
  e.occurred_at = timefmt::now();
  e.reason_code = std::string(finding.reason_code);
  e.severity = to_store(finding.severity);
  e.retry = false;
  e.layer = layer;
  e.uid = ids::event_uid();
  e.request_id = request_id_;
  e.action = to_store(rules.effective_action(finding.rule_index));
  e.path_hash = path_hash_;
  e.rule_version = facts_.rule_version;
  e.model = model_;
  e.upstream = facts_.upstream;
  e.session = session_hash_;
  events_.push_back(std::move(e));
  rule_of_event_.push_back(finding.rule_index);
  return events_.back().uid;
}

void EventRecorder::set_action(std::uint32_t rule_index, store::Action action) {
  if (store::Event* e = find(rule_index)) e->action = action;
}

void EventRecorder::set_retry(std::uint32_t rule_index, bool retry) {
  if (store::Event* e = find(rule_index)) e->retry = retry;
}

std::string_view EventRecorder::uid_of(std::uint32_t rule_index) const {
  for (std::size_t i = 0; i < rule_of_event_.size(); ++i) {
    if (rule_of_event_[i] == rule_index) return events_[i].uid;
  }
  return {};
}

void EventRecorder::set_model(std::string_view model) {
  model_ = store::model_label(model);
  for (store::Event& e : events_) e.model = model_;
}

std::vector<store::Event> EventRecorder::take() {
  taken_rules_.insert(taken_rules_.end(), rule_of_event_.begin(), rule_of_event_.end());
  rule_of_event_.clear();
  return std::exchange(events_, {});
}

}  // namespace edgeward::inspect
