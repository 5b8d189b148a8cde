#pragma once
// The JSON form of an event: the fields of DESIGN §4 by their exact names. Used by
// `edgeward events … --json`, `events export --format ndjson`, and the sync client's NDJSON
// upload, so that every consumer sees the same shape.

#include <string>

#include "store/event.hpp"

namespace edgeward::store {

// Appends one JSON object (no trailing newline) with, in this order: id, agent_id (null before
// enrollment), rule_id, scope, matched_in, request_method, occurred_at, reason_code, severity,
// retry, layer, uid, request_id, action, path_hash, rule_version, model, upstream, session
// (null when absent). `uploaded` is local bookkeeping and only included when `with_uploaded`.
void append_event_json(std::string& out, const Event& event, bool with_uploaded = false);

// The same as a new string.
std::string event_json(const Event& event, bool with_uploaded = false);

}  // namespace edgeward::store
