#pragma once
// Requests that inspection allowed during one loop turn leave for their upstreams together,
// before the loop next waits for I/O (a uv_idle handle: it runs at the start of the next turn,
// and while it is started the loop does not block in poll), instead of one at a time between
// inspections.
//
// Why: a write that wakes a sleeping reader costs the writer a wake-up in the kernel (on another
// CPU, an inter-processor interrupt; in a VM, an exit). Inspecting a request takes long enough
// for the upstream to answer the previous one and go back to sleep, so writing each request as
// soon as it is decided pays that wake-up for every request; writing the turn's requests back to
// back pays it about once per turn. On the proxy benchmark (16 KiB bodies, concurrency 32) it
// was three microseconds of system time per request (docs/benchmarks.md). A turn with a single
// request (an idle gateway, concurrency 1) releases it right after its inspection, as before.
//
// Bound: a request waits for the end of its turn, or at most `max_hold` after the first request
// of the batch was parked (the batch then leaves at once), so a turn of many large inspections
// does not hold the first one for all of them.
//
// Rules:
//  - Loop thread only. Items are released in the order they were parked, each at most once.
//  - An item is withdrawn (withdraw()) before it is destroyed; a withdrawn item is never
//    released. The queue's own destruction releases nothing.

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "core/uv_handle.hpp"

namespace edgeward::daemon {

class ReleaseQueue {
 public:
  using Clock = std::chrono::steady_clock;

  class Item {
   public:
    // Called once, on the loop thread, outside the parking call (unless max_hold ran out).
    virtual void release() = 0;

   protected:
    ~Item() = default;
  };

  ReleaseQueue(uv_loop_t* loop, std::chrono::microseconds max_hold);
  ReleaseQueue(const ReleaseQueue&) = delete;
  ReleaseQueue& operator=(const ReleaseQueue&) = delete;

  // Queues `item` for the next idle phase. When the batch has waited max_hold, releases the
  // whole batch (this item included) before returning. If the idle handle could not be
  // initialised, releases `item` at once.
  void park(Item& item);
  // Removes `item` if it is waiting; no effect otherwise.
  void withdraw(Item& item);
  std::size_t parked() const { return items_.size(); }

 private:
  void release_all();
  // Starts (on) or stops the idle handle.
  void arm(bool on);

  uv::Idle idle_;
  bool usable_ = false;
  bool running_ = false;     // idle handle started
  bool in_release_ = false;  // inside release_all()
  std::chrono::microseconds max_hold_;
  Clock::time_point first_parked_{};
  std::vector<Item*> items_;
  std::vector<Item*> releasing_;  // the batch being released (withdraw() clears its entries)
};

}  // namespace edgeward::daemon
