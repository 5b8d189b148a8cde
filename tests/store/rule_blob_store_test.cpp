#include "store/rule_blob_store.hpp"

#include <catch2/catch.hpp>

#include "store/agent_state.hpp"
#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using edgeward::store::testing::TempStateDir;

namespace {
RuleBlob blob(std::int64_t version, char fill) {
  RuleBlob b;
  b.version = version;
  b.sha256 = std::string(64, fill);
  b.envelope = R"({"payloadType":"application/vnd.edgeward.rules.v1+json"})";
  b.received_at = timefmt::now();
  return b;
}
}  // namespace

TEST_CASE("activating a blob supersedes the previous active one", "[store][blobs]") {
  TempStateDir dir;
  auto store = RuleBlobStore::open(dir.path());
  REQUIRE(store);
  auto& s = **store;
  REQUIRE(s.put(blob(1, 'a')));
  REQUIRE(s.put(blob(2, 'b')));
  CHECK_FALSE(s.active()->has_value());
  REQUIRE(s.activate(1, std::string(64, 'a')));
  REQUIRE(s.activate(2, std::string(64, 'b')));
  auto active = s.active();
  REQUIRE(active);
  REQUIRE(active->has_value());
  CHECK((*active)->version == 2);
  auto all = s.list();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].state == BlobState::kSuperseded);
  CHECK((*all)[1].state == BlobState::kActive);
}

TEST_CASE("activating a blob never stored fails and keeps the active one", "[store][blobs]") {
  TempStateDir dir;
  auto store = RuleBlobStore::open(dir.path());
  REQUIRE(store);
  auto& s = **store;
  REQUIRE(s.put(blob(1, 'a')));
  REQUIRE(s.activate(1, std::string(64, 'a')));
  auto st = s.activate(9, std::string(64, 'f'));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == "store.blob_unknown");
  CHECK((*s.active())->version == 1);
}

TEST_CASE("a refused blob is recorded without touching the active one", "[store][blobs]") {
  TempStateDir dir;
  auto store = RuleBlobStore::open(dir.path());
  REQUIRE(store);
  auto& s = **store;
  REQUIRE(s.put(blob(3, 'a')));
  REQUIRE(s.activate(3, std::string(64, 'a')));
  auto refused = blob(2, 'c');
  refused.state = BlobState::kRefused;
  REQUIRE(s.put(refused));
  // Re-putting the active blob (an idempotent re-delivery) does not demote it.
  REQUIRE(s.put(blob(3, 'a')));
  CHECK((*s.active())->version == 3);
  CHECK(s.list()->size() == 2);
}

TEST_CASE("compiled databases are cached by blob, Hyperscan version, platform and name",
          "[store][blobs]") {
  TempStateDir dir;
  auto store = RuleBlobStore::open(dir.path());
  REQUIRE(store);
  auto& s = **store;
  CompiledKey key{std::string(64, 'a'), "5.4.0", "avx2", "request/body"};
  CHECK_FALSE(s.compiled(key)->has_value());
  const std::string bytes("\x00\x01\x02hs", 5);
  REQUIRE(s.put_compiled(key, bytes));
  CHECK(**s.compiled(key) == bytes);
  auto other = key;
  other.hyperscan_version = "5.4.2";
  CHECK_FALSE(s.compiled(other)->has_value());
  other = key;
  other.blob_sha256 = std::string(64, 'b');
  REQUIRE(s.put_compiled(other, "x"));
  CHECK(*s.prune_compiled(other.blob_sha256) == 1);
  CHECK_FALSE(s.compiled(key)->has_value());
  CHECK(s.compiled(other)->has_value());
}

TEST_CASE("agent state keeps values across reopen", "[store][state]") {
  TempStateDir dir;
  {
    auto st = AgentState::open(dir.path());
    REQUIRE(st);
    REQUIRE((*st)->set("last_heartbeat", "2026-11-23T01:00:00.000Z"));
    REQUIRE((*st)->set("last_heartbeat", "2026-11-23T01:01:00.000Z"));
    REQUIRE((*st)->set("gone", "x"));
    REQUIRE((*st)->erase("gone"));
  }
  auto st = AgentState::open(dir.path());
  REQUIRE(st);
  CHECK(**(*st)->get("last_heartbeat") == "2026-11-23T01:01:00.000Z");
  CHECK_FALSE((*st)->get("gone")->has_value());
}
