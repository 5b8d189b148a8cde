// ReleaseQueue (daemon/release_queue.hpp): what is parked during a loop turn leaves before the
// loop next waits for I/O, in order, once; what is withdrawn never leaves; a batch that waited
// max_hold leaves at once.
#include "daemon/release_queue.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <thread>
#include <vector>

#include "core/uv_handle.hpp"

using namespace edgeward;
using namespace edgeward::daemon;
using namespace std::chrono_literals;

namespace {

struct Recorder {
  std::vector<int> released;
};

class TestItem final : public ReleaseQueue::Item {
 public:
  TestItem(Recorder& r, int id) : r_(r), id_(id) {}
  void release() override {
    r_.released.push_back(id_);
    if (on_release) on_release();
  }
  std::function<void()> on_release;

 private:
  Recorder& r_;
  int id_;
};

// Runs `turn` inside one loop turn (a zero timer's callback), then runs the loop until it has
// nothing left to do: an idle handle left started would keep uv_run from returning, and one
// that let the loop block in poll would hang it (no I/O is ever coming).
void run_turn(uv::UvLoop& loop, const std::function<void()>& turn) {
  uv::Timer timer;
  std::function<void()> f = turn;
  REQUIRE(timer.init(uv_timer_init, loop.get(), &f));
  uv_timer_start(
      timer.get(), [](uv_timer_t* t) { (*static_cast<std::function<void()>*>(t->data))(); }, 0, 0);
  uv_run(loop.get(), UV_RUN_DEFAULT);
  timer.close();
  uv_run(loop.get(), UV_RUN_DEFAULT);
}

}  // namespace

TEST_CASE("parked items leave together after the loop turn, in the order parked, without I/O",
          "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  ReleaseQueue q(loop.get(), 1s);
  TestItem a(r, 1), b(r, 2), c(r, 3);
  std::vector<int> during_turn;
  run_turn(loop, [&] {
    q.park(a);
    q.park(b);
    q.park(c);
    during_turn = r.released;
    CHECK(q.parked() == 3);
  });
  CHECK(during_turn.empty());
  CHECK(r.released == std::vector<int>{1, 2, 3});
  CHECK(q.parked() == 0);
}

TEST_CASE("a withdrawn item is never released", "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  ReleaseQueue q(loop.get(), 1s);
  TestItem a(r, 1), b(r, 2);
  run_turn(loop, [&] {
    q.park(a);
    q.park(b);
    q.withdraw(a);
    q.withdraw(a);  // twice: no effect the second time
  });
  CHECK(r.released == std::vector<int>{2});
}

TEST_CASE("an item withdrawn by the release of an earlier one in its batch is not released",
          "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  ReleaseQueue q(loop.get(), 1s);
  TestItem a(r, 1), b(r, 2), c(r, 3);
  a.on_release = [&] { q.withdraw(b); };  // as when releasing one request ends another
  run_turn(loop, [&] {
    q.park(a);
    q.park(b);
    q.park(c);
  });
  CHECK(r.released == std::vector<int>{1, 3});
}

TEST_CASE("an item parked while a batch is released leaves at the next turn", "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  ReleaseQueue q(loop.get(), 0us);  // no hold: every park would release at once
  TestItem a(r, 1), b(r, 2);
  a.on_release = [&] {
    q.park(b);  // inside release_all: must not release re-entrantly nor be lost
    CHECK(r.released == std::vector<int>{1});
  };
  run_turn(loop, [&] { q.park(a); });
  CHECK(r.released == std::vector<int>{1, 2});
  CHECK(q.parked() == 0);
}

TEST_CASE("a batch that has waited max_hold leaves when the next item is parked",
          "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  ReleaseQueue q(loop.get(), 2ms);
  TestItem a(r, 1), b(r, 2), c(r, 3);
  std::vector<int> after_first, after_second;
  run_turn(loop, [&] {
    q.park(a);
    after_first = r.released;
    std::this_thread::sleep_for(3ms);  // a long inspection
    q.park(b);
    after_second = r.released;
    q.park(c);  // a new batch: waits for the end of the turn
  });
  CHECK(after_first.empty());
  CHECK(after_second == std::vector<int>{1, 2});
  CHECK(r.released == std::vector<int>{1, 2, 3});
}

TEST_CASE("with no hold every parked item leaves before park returns", "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  ReleaseQueue q(loop.get(), 0us);
  TestItem a(r, 1);
  run_turn(loop, [&] {
    q.park(a);
    CHECK(r.released == std::vector<int>{1});
  });
  CHECK(r.released == std::vector<int>{1});
}

TEST_CASE("a queue destroyed with items waiting releases none of them", "[release_queue]") {
  uv::UvLoop loop;
  Recorder r;
  TestItem a(r, 1);
  {
    auto q = std::make_unique<ReleaseQueue>(loop.get(), 1s);
    run_turn(loop, [&] {
      q->park(a);
      q.reset();  // the worker shutting down mid-turn: its handle closes, its memory is freed
    });
  }
  CHECK(r.released.empty());
}
