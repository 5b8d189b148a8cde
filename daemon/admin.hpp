#pragma once
// The admin endpoint (DESIGN §5): GET /healthz, /readyz, /status (JSON), /metrics (Prometheus).
//
// Rules:
//  - Runs on the main thread's loop, apart from the workers, so that a saturated proxy still
//    answers health checks.
//  - Every answer is built synchronously from thread-safe sources (atomics, the metrics
//    registry, callbacks that take their own locks).

#include <functional>
#include <string>

#include "core/metrics.hpp"
#include "core/net/http_server.hpp"

namespace edgeward::daemon {

class AdminApp : public http::HttpApp {
 public:
  struct Sources {
    MetricsRegistry* metrics = nullptr;
    std::function<bool()> ready;               // /readyz: 200 when true, else 503
    std::function<std::string()> status_json;  // /status body
  };
  explicit AdminApp(Sources sources) : sources_(std::move(sources)) {}

  std::unique_ptr<http::RequestHandler> on_request(http::RequestHead&& head,
                                                   const http::BodyFraming& framing,
                                                   http::Responder& responder) override;

 private:
  Sources sources_;
};

}  // namespace edgeward::daemon
