#include "daemon/worker.hpp"

#include <future>

#include "core/log.hpp"
#include "core/uv_handle.hpp"

namespace edgeward::daemon {

http::ServerLimits server_limits(const Config& config) {
  http::ServerLimits l;
  l.max_request_body = config.limits.max_request_body;
  l.max_header_bytes = static_cast<std::size_t>(config.limits.max_header_bytes);
  l.header_timeout = config.limits.header_timeout;
  l.idle_timeout = config.limits.idle_timeout;
  l.max_connections = static_cast<std::size_t>(config.limits.max_connections);
  return l;
}

Worker::Worker(int index, ProxyMetrics& metrics, std::shared_ptr<InspectionHook> hook,
               std::function<void()> on_event)
    : index_(index), metrics_(metrics), hook_(std::move(hook)), on_event_(std::move(on_event)) {}

Worker::~Worker() {
  stop();
}

Status Worker::start(std::shared_ptr<const Config> config) {
  std::promise<Status> bound;
  auto result = bound.get_future();
  thread_ = std::thread([this, config, p = std::move(bound)]() mutable {
    uv::UvLoop loop;
    loop_ = loop.get();
    uv::Async async;
    if (Status st = async.init(uv_async_init, loop_, this,
                               [](uv_async_t* a) {
                                 if (a->data != nullptr)
                                   static_cast<Worker*>(a->data)->on_command();
                               });
        !st) {
      p.set_value(st);
      return;
    }
    app_ = std::make_unique<ProxyApp>(metrics_, hook_, loop_);
    server_ = std::make_unique<http::HttpServer>(loop_, *app_, server_limits(*config));
    server_->set_connection_gauge(&metrics_.open_connections);
    apply(*config);
    Status st = server_->listen(config->listen, true);
    if (!st) {
      server_.reset();
      app_.reset();
      p.set_value(st);
      return;
    }
    {
      std::lock_guard lock(mu_);
      async_ = async.get();
    }
    p.set_value(Status{});
    uv_run(loop_, UV_RUN_DEFAULT);
    {
      std::lock_guard lock(mu_);
      async_ = nullptr;
    }
    server_.reset();
    app_.reset();
    async.close();
    // UvLoop's destructor runs the loop until every close callback (and upstream connection
    // teardown) has finished.
  });
  Status st = result.get();
  if (!st && thread_.joinable()) thread_.join();
  return st;
}

void Worker::apply(const Config& config) {
  auto routes = ProxyRoutes::build(loop_, config);
  if (!routes) {
    log::error("worker.routes_failed", {{"worker", index_}, {"error", routes.error()}});
    return;
  }
  const http::ServerLimits limits = server_limits(config);
  ProxySettings settings;
  settings.max_response_body = config.limits.max_response_body;
  // One pair of watermarks for both directions. The server reports a drained response only
  // after its own high watermark was crossed, so the proxy must pause at that same level (a
  // lower one would wait for a drain report that never comes).
  settings.high_watermark = limits.write_high_watermark;
  settings.low_watermark = limits.write_low_watermark;
  app_->set_routes(std::move(*routes), settings);
  server_->set_limits(limits);
}

void Worker::reload(std::shared_ptr<const Config> config) {
  std::lock_guard lock(mu_);
  pending_config_ = std::move(config);
  if (async_ != nullptr) uv_async_send(async_);
}

void Worker::drain() {
  std::lock_guard lock(mu_);
  pending_drain_ = true;
  if (async_ != nullptr) uv_async_send(async_);
}

void Worker::stop() {
  {
    std::lock_guard lock(mu_);
    pending_stop_ = true;
    if (async_ != nullptr) uv_async_send(async_);
  }
  if (thread_.joinable()) thread_.join();
}

void Worker::on_command() {
  std::shared_ptr<const Config> config;
  bool drain = false, stop = false;
  {
    std::lock_guard lock(mu_);
    config = std::move(pending_config_);
    pending_config_.reset();
    drain = std::exchange(pending_drain_, false);
    stop = pending_stop_;
  }
  if (stop) {
    if (server_) server_->close_all();
    server_.reset();
    app_.reset();
    uv_stop(loop_);  // the thread's function closes the async handle and the loop
    return;
  }
  if (config && server_) apply(*config);
  if (drain && server_) {
    server_->drain([this] {
      drained_ = true;
      if (on_event_) on_event_();
    });
  }
}

}  // namespace edgeward::daemon
