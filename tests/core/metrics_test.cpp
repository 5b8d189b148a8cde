#include "core/metrics.hpp"

#include <catch2/catch.hpp>

using namespace edgeward;

TEST_CASE("metrics registry renders counters, gauges and histograms in Prometheus text",
          "[metrics]") {
  MetricsRegistry reg;
  Counter& c = reg.counter("edgeward_requests_total", "Requests.", {{"class", "2xx"}});
  c.inc();
  c.inc(2);
  reg.gauge("edgeward_open_connections", "Open.").set(5);
  Histogram& h = reg.histogram("edgeward_latency_seconds", "Latency.", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(7);
  reg.gauge_callback("edgeward_rows", "Rows.", {}, [] { return 42.0; });
  std::string text = reg.render();
  CHECK(text.find("# TYPE edgeward_requests_total counter\n") != std::string::npos);
  CHECK(text.find("edgeward_requests_total{class=\"2xx\"} 3\n") != std::string::npos);
  CHECK(text.find("edgeward_open_connections 5\n") != std::string::npos);
  CHECK(text.find("edgeward_latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("edgeward_latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("edgeward_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("edgeward_latency_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("edgeward_latency_seconds_sum 7.55\n") != std::string::npos);
  CHECK(text.find("edgeward_rows 42\n") != std::string::npos);
}

TEST_CASE("metrics registry returns the same metric for the same name and labels", "[metrics]") {
  MetricsRegistry reg;
  Counter& a = reg.counter("x_total", "X.", {{"k", "v"}});
  Counter& b = reg.counter("x_total", "X.", {{"k", "v"}});
  Counter& other = reg.counter("x_total", "X.", {{"k", "w"}});
  CHECK(&a == &b);
  CHECK(&a != &other);
}

TEST_CASE("metrics registry escapes label values", "[metrics]") {
  MetricsRegistry reg;
  reg.counter("y_total", "Y.", {{"k", "a\"b\\c\nd"}}).inc();
  CHECK(reg.render().find("y_total{k=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
}
