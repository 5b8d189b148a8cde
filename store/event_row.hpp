#pragma once
// Decoding one row of sql::kEventColumns into an Event. Internal to the store library.

#include "core/result.hpp"
#include "store/event.hpp"
#include "store/sqlite.hpp"

namespace edgeward::store {

// Reads the current row of `run`, whose statement selects sql::kEventColumns in order.
// Error "store.bad_row" when a stored value is outside its value set (a database edited by
// hand); the message names the column.
Result<Event> decode_event_row(const sqlite::Statement::Run& run);

}  // namespace edgeward::store
