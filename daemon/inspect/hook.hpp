#pragma once
// The inspection engine behind daemon/inspection_hook.hpp: rules at run time, per-exchange
// inspection (exchange.hpp), events to the store, counters in /metrics and /status.
//
// Rules:
//  - Rule sets: the embedded default pack, or the signed blob of `rules.file` accepted by
//    rules::accept_blob against `rules.trusted_keys`. Compiled on a thread of its own, never on
//    an event loop; the result is published with one atomic shared_ptr store. begin() takes the
//    current snapshot once: a request in flight finishes on the set it started with.
//  - A blob that is refused (or does not compile) leaves the active set in place; the refusal
//    code is counted in edgeward_rules_refusals_total{code=…} and shown in /status.
//  - Events go to the store's EventWriter (<state_dir>/edgeward.db, written on its own thread);
//    when the store cannot be opened they wait in a bounded in-memory queue (EventSink) that a
//    writer drains later — never a log line.
//  - Thread-safety: begin(), ready(), write_status() from any thread; reload() from the main
//    thread only.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "daemon/config.hpp"
#include "daemon/inspect/exchange.hpp"
#include "daemon/inspection_hook.hpp"
#include "rules/blob.hpp"
#include "rules/engine.hpp"
#include "store/event_writer.hpp"
#include "store/rule_blob_store.hpp"

namespace edgeward::inspect {

// Where events go: the store's writer, or a bounded queue while there is none.
class EventSink {
 public:
  static constexpr std::size_t kQueueCapacity = 10000;

  explicit EventSink(std::unique_ptr<store::EventWriter> writer) : writer_(std::move(writer)) {}
  ~EventSink();

  // Any thread; never blocks on I/O. False when the event was dropped (counted).
  bool submit(store::Event&& event);
  // Hands the queued events to `writer` (and keeps using it from now on).
  void attach(std::unique_ptr<store::EventWriter> writer);
  // The events waiting in memory (tests; a writer attaching later drains them).
  std::vector<store::Event> drain();

  std::uint64_t submitted() const { return submitted_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::size_t queued() const;
  store::EventWriter* writer() const { return writer_.get(); }

 private:
  mutable std::mutex mu_;
  std::unique_ptr<store::EventWriter> writer_;
  std::deque<store::Event> queue_;
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

// What a request starts with: one immutable snapshot.
struct RulesSnapshot {
  std::shared_ptr<const rules::CompiledRules> rules;  // null: no valid rules
  std::int64_t version = 0;                           // blob version; 0 for the embedded pack
  std::string source;                                 // "embedded" | "file" | "none"
  // The blob's expires_at: past it the rules are still enforced and /status says "stale".
  std::optional<timefmt::TimePoint> expires_at;
  InspectionPolicy policy;
  std::vector<daemon::UpstreamConfig> upstreams;  // for dialect settings
};

class InspectionEngine final : public daemon::InspectionHook,
                               public std::enable_shared_from_this<InspectionEngine> {
 public:
  // Loads and compiles the rules of `config` (on a compile thread, waited for: the daemon is
  // not serving yet), opens the event store. Errors only for what the daemon cannot run
  // without; bad rules are not an error (fail_mode decides).
  static Result<std::shared_ptr<InspectionEngine>> create(const daemon::Config& config,
                                                          MetricsRegistry& metrics,
                                                          bool open_store = true);
  ~InspectionEngine() override;

  std::unique_ptr<daemon::RequestInspection> begin(const daemon::RouteInfo& route,
                                                   const http::RequestHead& head) override;
  Status reload(const daemon::Config& config) override;
  bool ready() const override;
  void write_status(json::JsonWriter& out) const override;

  // Waits for a compile started by reload() (tests, shutdown).
  void wait_idle();
  std::shared_ptr<const RulesSnapshot> snapshot() const { return snapshot_.load(); }
  EventSink& events() { return *sink_; }

  // Called by exchanges when they end.
  struct ExchangeReport {
    double seconds = 0;
    std::uint64_t bytes_scanned = 0;
    bool stream_blocked = false;
    double request_seconds = -1;  // the request's inspection alone; -1: not inspected
    std::size_t request_body_bytes = 0;
  };

  // Body size classes of edgeward_inspection_request_duration_seconds{body_size}.
  struct BodySizeClass {
    std::string_view label;
    std::size_t max_bytes;
  };
  static constexpr std::array<BodySizeClass, 5> kBodySizeClasses{
      {{"1KiB", 1024}, {"4KiB", 4096}, {"16KiB", 16384}, {"64KiB", 65536}, {"larger", SIZE_MAX}}};
  void report(const ExchangeReport& r, std::vector<store::Event>&& events);

 private:
  InspectionEngine(MetricsRegistry& metrics, std::unique_ptr<EventSink> sink);
  // Loads (accepts, parses) the rules the config names; compiles; returns the new snapshot's
  // rules or a refusal. Runs on the compile thread.
  struct Loaded {
    std::shared_ptr<const rules::CompiledRules> rules;
    std::int64_t version = 0;
    std::string source;
    std::optional<rules::ActiveBlob> blob;
    std::optional<timefmt::TimePoint> expires_at;
    std::optional<Error> refusal;
  };
  Loaded load(const daemon::Config& config, const std::optional<rules::ActiveBlob>& active,
              const std::shared_ptr<const rules::CompiledRules>& current, bool mode_changed);
  void publish(const daemon::Config& config, Loaded loaded);
  void count_refusal(const Error& e);

  MetricsRegistry& metrics_;
  std::unique_ptr<EventSink> sink_;
  // The compiled-database cache (DESIGN §3.4) for blob rule sets; null without a store.
  std::unique_ptr<store::RuleBlobStore> blob_store_;
  std::atomic<std::shared_ptr<const RulesSnapshot>> snapshot_;

  mutable std::mutex state_mu_;  // guards the fields below
  std::optional<rules::ActiveBlob> active_blob_;
  std::string mode_ = "enforce";
  std::optional<Error> last_refusal_;
  std::string last_refusal_at_;
  std::thread compiler_;

  Counter* requests_inspected_;
  Counter* bytes_scanned_;
  Counter* fail_open_;
  Counter* events_dropped_;
  Counter* streams_blocked_;
  Histogram* inspect_seconds_;
  std::array<Histogram*, kBodySizeClasses.size()> request_seconds_{};
  Gauge* rules_version_;
  Gauge* rules_loaded_;
  // decisions by (reason code, action), registered up front for every code of the taxonomy.
  std::vector<std::array<Counter*, 3>> decisions_;
};

}  // namespace edgeward::inspect
