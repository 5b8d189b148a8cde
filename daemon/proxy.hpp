#pragma once
// The forwarding half of edgewardd (DESIGN §2): route by path prefix, inspection hook, upstream
// exchange, streaming both ways with backpressure, upstream failures as 502/504.
//
// Rules:
//  - One ProxyApp per worker (event loop); everything runs on that loop's thread.
//  - A ProxyRoutes (routes + one UpstreamPool per upstream) is built on the worker's thread and
//    swapped on reload; each request holds the routes it started with (shared_ptr), so a reload
//    never cuts a request in flight.
//  - Bodies that are not inspected are never copied here: request bytes go straight from the
//    client parser into Exchange::write_body, response bytes from the client callback into
//    Responder::send_body (which copies only what the socket does not take at once).
//  - Backpressure: the client's request body is paused while the upstream side has more than
//    the high watermark queued, and resumed below the low one; the upstream response is paused
//    while the client side has more than the high watermark queued, resumed below the low one.
//  - Nothing request-derived is logged: only status codes, timings, upstream names, error codes.

#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "core/net/http_client.hpp"
#include "core/net/http_server.hpp"
#include "daemon/config.hpp"
#include "daemon/inspection_hook.hpp"
#include "daemon/release_queue.hpp"

namespace edgeward::daemon {

// Counters shared by every worker (lock-free updates).
struct ProxyMetrics {
  explicit ProxyMetrics(MetricsRegistry& registry);

  Counter* requests_by_class[6];  // 1xx … 5xx, index = status / 100; [0] unused
  Histogram& latency;             // request start → response end, seconds
  Histogram& upstream_latency;    // request start → upstream response head, seconds
  Counter& request_bytes;         // request body bytes received from clients
  Counter& response_bytes;        // response body bytes sent to clients
  Counter& client_gone;           // exchanges cut short by the client
  Gauge& open_connections;        // client connections, all workers
  Gauge& active_requests;         // requests in flight, all workers
  MetricsRegistry& registry;

  Counter& upstream_failure(std::string_view upstream, http::UpstreamFailure failure);
};

// The routing table and upstream pools of one worker, for one config generation.
class ProxyRoutes {
 public:
  struct Upstream {
    UpstreamConfig config;
    std::string host_header;  // "api.openai.com" or "127.0.0.1:8080"
    std::unique_ptr<http::UpstreamPool> pool;
  };
  struct Route {
    std::string prefix;
    Upstream* upstream;
  };

  // Builds pools for every upstream of `config` on `loop`. Errors: "upstream.bad_url", ….
  static Result<std::shared_ptr<ProxyRoutes>> build(uv_loop_t* loop, const Config& config);

  // The route whose prefix is the longest prefix of `path`; nullptr when none matches.
  const Route* match(std::string_view path) const;

  const std::vector<std::unique_ptr<Upstream>>& upstreams() const { return upstreams_; }

 private:
  std::vector<std::unique_ptr<Upstream>> upstreams_;
  std::vector<Route> routes_;  // longest prefix first
};

struct ProxySettings {
  std::uint64_t max_response_body = 32ull << 20;
  std::size_t high_watermark = 256u << 10;
  std::size_t low_watermark = 64u << 10;
};

// The HttpApp of the client-facing listener.
class ProxyApp : public http::HttpApp {
 public:
  // `loop` is the worker's: allowed requests are released at the end of its turns
  // (release_queue.hpp).
  ProxyApp(ProxyMetrics& metrics, std::shared_ptr<InspectionHook> hook, uv_loop_t* loop);

  // Installs the routes and settings used by requests that start from now on.
  void set_routes(std::shared_ptr<ProxyRoutes> routes, ProxySettings settings);
  const std::shared_ptr<ProxyRoutes>& routes() const { return routes_; }

  std::unique_ptr<http::RequestHandler> on_request(http::RequestHead&& head,
                                                   const http::BodyFraming& framing,
                                                   http::Responder& responder) override;

  ProxyMetrics& metrics() { return metrics_; }
  InspectionHook* hook() const { return hook_.get(); }
  const ProxySettings& settings() const { return settings_; }
  ReleaseQueue& releases() { return releases_; }

 private:
  ProxyMetrics& metrics_;
  std::shared_ptr<InspectionHook> hook_;
  std::shared_ptr<ProxyRoutes> routes_;
  ProxySettings settings_;
  ReleaseQueue releases_;
};

// True for the hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1): Connection,
// Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade.
bool is_hop_by_hop(std::string_view name);
// Removes hop-by-hop fields and every field named in Connection.
void strip_hop_by_hop(http::Headers& headers);

// The error body for `dialect` (DESIGN §2 shapes): openai/generic/ollama
// {"error":{"message","type","code","param":null}}, anthropic {"type":"error","error":{…}}.
std::string error_body(ApiDialect dialect, std::string_view message, std::string_view type,
                       std::string_view code);

}  // namespace edgeward::daemon
