#pragma once
// MetricsRegistry: counters, gauges and histograms rendered in the Prometheus text format
// (version 0.0.4) for the admin endpoint's GET /metrics.
//
// Rules:
//  - Registration (counter(), gauge(), histogram()) takes a lock and may allocate; do it once at
//    start-up (or per new label value, e.g. a reason code seen for the first time) and keep the
//    returned reference. The reference stays valid for the life of the registry.
//  - Updating a metric is lock-free (relaxed atomics) and safe from any thread: the hot path
//    never allocates or locks.
//  - Registering the same name and labels twice returns the same metric; the same name with a
//    different type is a programming error (asserted).
//  - Names follow Prometheus conventions: `edgeward_<what>_<unit>` and `_total` for counters.
//    Label values are escaped when rendered; never put request content into a label.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeward {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Gauge {
 public:
  void add(std::int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::int64_t n) { v_.fetch_sub(n, std::memory_order_relaxed); }
  void set(std::int64_t n) { v_.store(n, std::memory_order_relaxed); }
  std::int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> v_{0};
};

// Cumulative buckets with fixed upper bounds (seconds, bytes, …), plus sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (non-cumulative) counts; the last one is +Inf.
  std::vector<std::uint64_t> bucket_counts() const;
  double sum() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micros_{0};  // sum in millionths, so it stays an integer atomic
};

// Default latency buckets in seconds: 0.5 ms … 60 s.
std::vector<double> latency_buckets_seconds();

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, MetricLabels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                       MetricLabels labels = {});

  // A gauge computed when /metrics is read (e.g. rows in the store): `read` runs on the thread
  // that renders, under the registry lock; it must be quick and thread-safe.
  void gauge_callback(std::string_view name, std::string_view help, MetricLabels labels,
                      std::function<double()> read);

  // The whole registry in the Prometheus text exposition format, families in registration
  // order.
  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type;
    std::vector<std::unique_ptr<Series>> series;
  };
  Series& series_for(std::string_view name, std::string_view help, Type type,
                     MetricLabels&& labels);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

}  // namespace edgeward
