#include "store/outbox.hpp"

#include <catch2/catch.hpp>

#include "tests/store/store_fixtures.hpp"

using namespace edgeward;
using namespace edgeward::store;
using edgeward::store::testing::make_event;
using edgeward::store::testing::TempStateDir;

namespace {
void seed(const std::filesystem::path& dir, int n) {
  auto writer = EventWriter::open(dir);
  REQUIRE(writer);
  for (int i = 0; i < n; ++i) REQUIRE((*writer)->submit(make_event()));
  REQUIRE((*writer)->shutdown());
}
}  // namespace

TEST_CASE("the outbox hands out not-uploaded events in id order, limit at a time",
          "[store][outbox]") {
  TempStateDir dir;
  seed(dir.path(), 5);
  auto box = Outbox::open(dir.path());
  REQUIRE(box);
  auto batch = (*box)->next_batch(3);
  REQUIRE(batch);
  REQUIRE(batch->size() == 3);
  CHECK((*batch)[0].id == 1);
  CHECK((*batch)[2].id == 3);
  CHECK(*(*box)->pending() == 5);
}

TEST_CASE("marked events leave the outbox, the next batch continues after them",
          "[store][outbox]") {
  TempStateDir dir;
  seed(dir.path(), 5);
  auto box = Outbox::open(dir.path());
  REQUIRE(box);
  auto batch = (*box)->next_batch(3);
  REQUIRE(batch);
  std::vector<std::string> uids;
  for (const auto& e : *batch) uids.push_back(e.uid);
  auto marked = (*box)->mark_uploaded(uids);
  REQUIRE(marked);
  CHECK(*marked == 3);
  CHECK(*(*box)->pending() == 2);
  auto next = (*box)->next_batch(10);
  REQUIRE(next);
  REQUIRE(next->size() == 2);
  CHECK((*next)[0].id == 4);
}

TEST_CASE("marking is idempotent and ignores unknown uids", "[store][outbox]") {
  TempStateDir dir;
  seed(dir.path(), 2);
  auto box = Outbox::open(dir.path());
  REQUIRE(box);
  auto batch = (*box)->next_batch(1);
  REQUIRE(batch);
  const std::vector<std::string> uids = {batch->front().uid, "evt_01JDZZZZZZZZZZZZZZZZZZZZZZ"};
  CHECK(*(*box)->mark_uploaded(uids) == 1);
  CHECK(*(*box)->mark_uploaded(uids) == 0);
  CHECK(*(*box)->pending() == 1);
}

TEST_CASE("the outbox works while the writer keeps writing", "[store][outbox]") {
  TempStateDir dir;
  auto writer = EventWriter::open(dir.path());
  REQUIRE(writer);
  auto box = Outbox::open(dir.path());
  REQUIRE(box);
  std::size_t uploaded = 0;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 50; ++i) REQUIRE((*writer)->submit(make_event()));
    auto batch = (*box)->next_batch(40);
    REQUIRE(batch);
    std::vector<std::string> uids;
    for (const auto& e : *batch) uids.push_back(e.uid);
    auto marked = (*box)->mark_uploaded(uids);
    REQUIRE(marked);
    uploaded += *marked;
  }
  REQUIRE((*writer)->shutdown());
  CHECK(*(*box)->pending() == static_cast<std::int64_t>(1000 - uploaded));
}
