#pragma once
// RAII ownership of libuv handles and loops.
//
// Rules:
//  - A UvHandle<H> owns one heap-allocated libuv handle of type H. Its memory is freed only in
//    the close callback, so the owner (the object whose pointer sits in handle->data) may be
//    destroyed right after close(): libuv makes no callback but the close callback after
//    uv_close(), and ours touches only the handle's own memory.
//  - close() is idempotent: Open -> Closing is one-way; the destructor calls close().
//  - All methods run on the loop's thread.
//  - A handle that was never initialised is freed at once (libuv does not know it).

#include <uv.h>

#include <cassert>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace edgeward::uv {

// Turns a libuv error into an Error with code "uv.<ERRNAME>" (e.g. "uv.ECONNREFUSED").
inline Error uv_error(int status, const char* what) {
  return Error{std::string("uv.") + uv_err_name(status),
               std::string(what) + ": " + uv_strerror(status)};
}

template <class H>
class UvHandle {
 public:
  enum class State { Unbound, Open, Closing };

  UvHandle() : h_(new H{}) {}
  ~UvHandle() { close(); }

  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept
      : h_(std::exchange(other.h_, nullptr)), state_(std::exchange(other.state_, State::Closing)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      h_ = std::exchange(other.h_, nullptr);
      state_ = std::exchange(other.state_, State::Closing);
    }
    return *this;
  }

  // Initialises the handle with `init(loop, handle, args...)` (uv_tcp_init, uv_timer_init, …).
  // `data` becomes handle->data: the object that libuv callbacks are routed to.
  template <class Init, class... Args>
  Status init(Init init_fn, uv_loop_t* loop, void* data, Args&&... args) {
    assert(state_ == State::Unbound);
    int rc = init_fn(loop, h_, std::forward<Args>(args)...);
    if (rc != 0) return uv_error(rc, "uv handle init");
    h_->data = data;
    state_ = State::Open;
    return {};
  }

  H* get() const { return h_; }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(h_); }
  bool is_open() const { return state_ == State::Open; }
  State state() const { return state_; }

  // Starts closing; the memory is freed in the close callback. Safe to call repeatedly.
  void close() {
    if (h_ == nullptr || state_ == State::Closing) return;
    if (state_ == State::Unbound) {
      delete h_;
    } else {
      h_->data = nullptr;
      uv_close(handle(), [](uv_handle_t* raw) { delete reinterpret_cast<H*>(raw); });
    }
    h_ = nullptr;
    state_ = State::Closing;
  }

 private:
  H* h_;
  State state_ = State::Unbound;
};

using Tcp = UvHandle<uv_tcp_t>;
using Timer = UvHandle<uv_timer_t>;
using Async = UvHandle<uv_async_t>;
using Signal = UvHandle<uv_signal_t>;
using Idle = UvHandle<uv_idle_t>;
using Check = UvHandle<uv_check_t>;
using Pipe = UvHandle<uv_pipe_t>;

// Owns a uv_loop_t. On destruction it closes every handle still open, runs the loop until the
// close callbacks have freed them, then closes the loop.
class UvLoop {
 public:
  UvLoop() { uv_loop_init(&loop_); }
  ~UvLoop() {
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop_);
    assert(rc == 0);
    (void)rc;
  }
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

 private:
  uv_loop_t loop_{};
};

}  // namespace edgeward::uv
