#include "core/uv_handle.hpp"

#include <catch2/catch.hpp>

using edgeward::uv::Timer;
using edgeward::uv::UvLoop;

namespace {
struct Owner {
  int fired = 0;
};
}  // namespace

TEST_CASE("UvHandle routes callbacks to its owner and frees memory only in the close callback",
          "[uv]") {
  UvLoop loop;
  Owner owner;
  Timer timer;
  REQUIRE(timer.init(uv_timer_init, loop.get(), &owner).ok());
  uv_timer_start(
      timer.get(), [](uv_timer_t* t) { static_cast<Owner*>(t->data)->fired++; }, 1, 0);
  uv_run(loop.get(), UV_RUN_DEFAULT);
  CHECK(owner.fired == 1);
  timer.close();
  CHECK(timer.state() == Timer::State::Closing);
  timer.close();  // idempotent
  // The handle is still alive until the loop runs the close callback; ASan proves the free.
  uv_run(loop.get(), UV_RUN_DEFAULT);
}

TEST_CASE("UvHandle that was never initialised is freed without touching the loop", "[uv]") {
  Timer timer;
  CHECK(timer.state() == Timer::State::Unbound);
}

TEST_CASE("UvHandle init failure is an error value, not a crash", "[uv]") {
  UvLoop loop;
  edgeward::uv::Tcp tcp;
  // AF_UNIX is not a valid flag set for uv_tcp_init_ex: libuv answers EINVAL.
  auto st = tcp.init(uv_tcp_init_ex, loop.get(), nullptr, static_cast<unsigned>(AF_UNIX));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == "uv.EINVAL");
}

TEST_CASE("UvLoop closes handles left open when it is destroyed", "[uv]") {
  auto* loop = new UvLoop();
  auto* raw = new uv_timer_t;
  uv_timer_init(loop->get(), raw);
  uv_timer_start(raw, [](uv_timer_t*) {}, 100000, 0);
  delete loop;  // must not hang or assert; raw's memory is ours
  delete raw;
}
