#include "daemon/release_queue.hpp"

#include <algorithm>

namespace edgeward::daemon {

ReleaseQueue::ReleaseQueue(uv_loop_t* loop, std::chrono::microseconds max_hold)
    : max_hold_(max_hold) {
  usable_ = idle_.init(uv_idle_init, loop, this).ok();
}

void ReleaseQueue::park(Item& item) {
  if (!usable_) {
    item.release();
    return;
  }
  const Clock::time_point now = Clock::now();
  if (items_.empty()) first_parked_ = now;
  items_.push_back(&item);
  if (now - first_parked_ >= max_hold_ && !in_release_) {
    release_all();
    return;
  }
  arm(true);
}

void ReleaseQueue::arm(bool on) {
  if (on == running_) return;
  if (on) {
    uv_idle_start(idle_.get(), [](uv_idle_t* h) {
      if (h->data != nullptr) static_cast<ReleaseQueue*>(h->data)->release_all();
    });
  } else {
    uv_idle_stop(idle_.get());
  }
  running_ = on;
}

void ReleaseQueue::withdraw(Item& item) {
  std::erase(items_, &item);
  std::replace(releasing_.begin(), releasing_.end(), &item, static_cast<Item*>(nullptr));
}

void ReleaseQueue::release_all() {
  // A release may destroy other items of the batch (withdraw() then clears their entries), so
  // the batch is walked from a vector that withdraw() also sees. An item parked meanwhile waits
  // for the next turn.
  in_release_ = true;
  releasing_.swap(items_);
  items_.clear();
  for (std::size_t i = 0; i < releasing_.size(); ++i) {
    if (Item* item = releasing_[i]) {
      releasing_[i] = nullptr;
      item->release();
    }
  }
  releasing_.clear();
  in_release_ = false;
  arm(!items_.empty());
}

}  // namespace edgeward::daemon
