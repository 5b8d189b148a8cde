#pragma once
// AgentState: small key/value facts the daemon and sync client keep across restarts (last
// heartbeat, last upload, revocation), in <state_dir>/edgeward.db.
//
// Rules:
//  - Values are short operational facts; never secrets (the device key lives in its own 0600
//    file, DESIGN §9.1) and never request data.
//  - Thread-safe (one mutex); call off the event loop.

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "store/sqlite.hpp"

namespace edgeward::store {

class AgentState {
 public:
  // Opens (creating/migrating as needed) <state_dir>/edgeward.db. Errors as open_read_write().
  static Result<std::unique_ptr<AgentState>> open(const std::filesystem::path& state_dir);

  Result<std::optional<std::string>> get(const std::string& key);
  // Error "store.write_failed".
  Status set(const std::string& key, const std::string& value);
  Status erase(const std::string& key);

 private:
  std::mutex mu_;
  sqlite::Connection db_;
  sqlite::Statement get_, put_, delete_;
};

}  // namespace edgeward::store
