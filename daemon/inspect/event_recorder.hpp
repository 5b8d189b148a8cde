#pragma once
// The events of one exchange (DESIGN §4): one per (request, rule), at most 16, all sharing one
// request_id; each with its own `evt_` uid.
//
// Rules:
//  - Only the fields of store::Event are filled, from rule metadata and hashed request facts:
//    the path and the Edgeward-Session header are hashed, the model name bounded
//    (store::model_label). Nothing of the payload can enter an event.
//  - The first finding of a rule decides its event's surface and layer; callers record the most
//    specific surfaces first (each text on its own before the joined conversation).
//  - Single-threaded (one per exchange).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/inspect/dialect.hpp"
#include "rules/engine.hpp"
#include "store/event.hpp"

namespace edgeward::inspect {

// What an exchange's events say about the request, fixed when it starts.
struct ExchangeFacts {
  Route route;
  std::string method;  // "POST"
  std::string target;  // request target; only its path's hash is kept
  std::string upstream;
  std::optional<std::string> session_header;  // Edgeward-Session value; only its hash is kept
  std::optional<std::string> agent_id;        // the enrolled agent id, if any
  std::int64_t rule_version = 0;              // blob version of the rules (0: embedded pack)
};

class EventRecorder {
 public:
  static constexpr std::size_t kMaxEvents = 16;

  explicit EventRecorder(const ExchangeFacts& facts);

  // The event for the finding's rule, created on first sight. Returns its uid, or "" when the
  // exchange already has kMaxEvents events for other rules.
  std::string_view record(const rules::CompiledRules& rules, const rules::Finding& finding,
                          store::Scope scope, store::MatchedIn matched_in, store::Layer layer);

  // Adjusts the event of `rule_index` (no-op when it has none): what really happened to it.
  void set_action(std::uint32_t rule_index, store::Action action);
  void set_retry(std::uint32_t rule_index, bool retry);
  // The uid of the event of `rule_index`, "" when none.
  std::string_view uid_of(std::uint32_t rule_index) const;

  // The model named by the request (applied to every event, including later ones).
  void set_model(std::string_view model);

  // Shared by every event of the exchange; made with the first event (most exchanges record
  // none, and a ULID and a BLAKE2b of the path per request are not free), so "" before it.
  const std::string& request_id() const { return request_id_; }
  std::size_t size() const { return events_.size(); }
  const std::vector<store::Event>& events() const { return events_; }
  // Moves the events out (the recorder keeps their rule ids so that a rule never gets two).
  std::vector<store::Event> take();

 private:
  store::Event* find(std::uint32_t rule_index);
  // The request id and the hashed request facts, computed once, at the first event.
  void make_request_facts();

  const ExchangeFacts& facts_;
  std::string request_id_;
  std::string path_hash_;
  std::optional<std::string> session_hash_;
  std::string model_;
  std::vector<store::Event> events_;
  std::vector<std::uint32_t> rule_of_event_;  // parallel to events_ until take()
  std::vector<std::uint32_t> taken_rules_;    // rules whose events were already taken
};

store::Severity to_store(rules::Severity s);
store::Action to_store(rules::Action a);
rules::Surface to_rules(store::MatchedIn m);
rules::Layer to_rules(store::Layer l);

}  // namespace edgeward::inspect
