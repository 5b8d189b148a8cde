#pragma once
// A worker: one thread, one event loop, one listening socket (SO_REUSEPORT), one ProxyApp.
//
// Rules:
//  - start(), reload(), drain(), stop() are called from the main thread; they hand the work to
//    the worker's loop through a uv_async and never touch loop objects directly.
//  - The worker reports "drained" (after drain()) through `on_event`, which it calls from its
//    own thread: the callee must be thread-safe (the daemon uses uv_async_send).

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/net/http_server.hpp"
#include "daemon/config.hpp"
#include "daemon/inspection_hook.hpp"
#include "daemon/proxy.hpp"

namespace edgeward::daemon {

class Worker {
 public:
  Worker(int index, ProxyMetrics& metrics, std::shared_ptr<InspectionHook> hook,
         std::function<void()> on_event);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread, binds the listener with `config` and waits until it listens.
  Status start(std::shared_ptr<const Config> config);
  // Requests from now on use `config` (routes, pools, limits). Listener changes need a restart.
  void reload(std::shared_ptr<const Config> config);
  // Stops accepting and lets requests in flight finish; drained() turns true at the end.
  void drain();
  // Closes every connection now, ends the loop and joins the thread.
  void stop();

  bool drained() const { return drained_.load(); }
  std::uint64_t requests() const { return requests_.load(); }

 private:
  void run(std::shared_ptr<const Config> config);
  void on_command();
  void apply(const Config& config);

  int index_;
  ProxyMetrics& metrics_;
  std::shared_ptr<InspectionHook> hook_;
  std::function<void()> on_event_;
  std::thread thread_;

  std::mutex mu_;  // guards the pending commands below
  std::shared_ptr<const Config> pending_config_;
  bool pending_drain_ = false;
  bool pending_stop_ = false;

  // Loop-thread objects (created and destroyed on the worker thread).
  uv_loop_t* loop_ = nullptr;
  uv_async_t* async_ = nullptr;
  std::unique_ptr<ProxyApp> app_;
  std::unique_ptr<http::HttpServer> server_;

  std::atomic<bool> drained_{false};
  std::atomic<std::uint64_t> requests_{0};
};

// The server limits of a config.
http::ServerLimits server_limits(const Config& config);

}  // namespace edgeward::daemon
