#pragma once
// RuleBlobStore: signed rule blobs as received (DESIGN §3.3) and the compiled-database cache
// (DESIGN §3.4), in <state_dir>/edgeward.db.
//
// Rules:
//  - The store keeps envelopes and states; it does not verify anything. The caller (the rules
//    loader) verifies a blob before calling activate(), and records refusals with put(…,
//    kRefused) so that `status` can show them.
//  - At most one blob is active (a unique index enforces it); activate() supersedes the
//    previous one in the same transaction.
//  - Compiled databases are keyed by (blob SHA-256, Hyperscan version, CPU platform, name), where
//    `name` says which database of the blob it is (one per scope and surface).
//  - Thread-safe (one mutex); call off the event loop (compile/load threads).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "store/sqlite.hpp"

namespace edgeward::store {

enum class BlobState : std::uint8_t { kReceived, kActive, kSuperseded, kRefused };
std::string_view to_string(BlobState s);

struct RuleBlob {
  std::int64_t version = 0;
  std::string sha256;    // 64 lowercase hex of the envelope bytes
  std::string envelope;  // the DSSE envelope JSON, as received
  timefmt::TimePoint received_at{};
  BlobState state = BlobState::kReceived;
};

struct CompiledKey {
  std::string blob_sha256;
  std::string hyperscan_version;  // hs_version()
  std::string platform;           // e.g. the hs_platform_info tune/cpu_features, as text
  std::string name;               // "request/body", "response/tools", …
};

class RuleBlobStore {
 public:
  // Opens (creating/migrating as needed) <state_dir>/edgeward.db. Errors as open_read_write().
  static Result<std::unique_ptr<RuleBlobStore>> open(const std::filesystem::path& state_dir);

  // Records a blob (state kReceived or kRefused; an active blob's state is never overwritten).
  // Error "store.write_failed".
  Status put(const RuleBlob& blob);

  // Makes (version, sha256) the active blob, superseding the previous one, atomically.
  // Errors "store.write_failed", "store.blob_unknown" (never put()).
  Status activate(std::int64_t version, const std::string& sha256);

  // The active blob, if any.
  Result<std::optional<RuleBlob>> active();

  // Every recorded blob, oldest first.
  Result<std::vector<RuleBlob>> list();

  // A cached serialized Hyperscan database, if present.
  Result<std::optional<std::string>> compiled(const CompiledKey& key);

  // Stores a serialized database (replacing an entry with the same key).
  Status put_compiled(const CompiledKey& key, std::string_view serialized);

  // Drops cached databases of every blob but `keep_blob_sha256`; returns how many.
  Result<std::int64_t> prune_compiled(const std::string& keep_blob_sha256);

 private:
  Status exec_step(sqlite::Statement::Run& run);
  Result<std::vector<RuleBlob>> read_blobs(sqlite::Statement& stmt);

  std::mutex mu_;
  sqlite::Connection db_;
  sqlite::Statement insert_, supersede_, activate_, active_, list_, compiled_get_, compiled_put_,
      compiled_prune_, begin_, commit_, rollback_;
};

}  // namespace edgeward::store
