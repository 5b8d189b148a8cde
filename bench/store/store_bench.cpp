// bench/store: the event store's write rate through EventWriter and the `events list` query
// time over a large store (docs/benchmarks.md, "Event store").
//
//   store_bench insert STATE_DIR [N] [PRODUCERS] [normal]
//       N events (default 1,000,000) submitted from PRODUCERS threads (default 2) into a fresh
//       store; events are built before the clock starts. Prints submit cost, events/s until
//       the last one is committed, and CPU per event (whole process, and per store thread).
//       Default synchronous=FULL (the writer's default); "normal" measures synchronous=NORMAL.
//   store_bench fill STATE_DIR N DAYS
//       N events spread over the last DAYS days, random severity and reason code.
//   store_bench query STATE_DIR SEVERITY SINCE [REPS]
//       EventQuery::list with --severity SEVERITY --since SINCE --limit 50, REPS times (default
//       50): min / median / max wall time of open + query, the work `edgeward events list` does.

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "core/units.hpp"
#include "store/event_query.hpp"
#include "store/event_writer.hpp"

using namespace edgeward;
using namespace edgeward::store;
using Clock = std::chrono::steady_clock;

namespace {

const char* const kReasons[] = {"DLP.PII.IBAN",
                                "DLP.PII.CREDIT_CARD",
                                "DLP.PII.EMAIL",
                                "DLP.SECRET.AWS_ACCESS_KEY",
                                "DLP.SECRET.GITHUB_TOKEN",
                                "INJECTION.PROMPT_OVERRIDE",
                                "INJECTION.ROLE_HIJACK",
                                "EGRESS.UNAPPROVED_DOMAIN",
                                "POLICY.MODEL_DENIED",
                                "POLICY.TOOL_DENIED"};

Event make(std::mt19937_64& rng, timefmt::TimePoint at) {
  Event e;
  e.agent_id = "6f1c2a4e-0d7b-4c1e-9a63-2b8f1e0c5d17";
  e.rule_id = "0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11";
  e.scope = rng() % 4 == 0 ? Scope::kResponse : Scope::kRequest;
  e.matched_in = static_cast<MatchedIn>(rng() % 4);
  e.request_method = "POST";
  e.occurred_at = at;
  e.reason_code = kReasons[rng() % std::size(kReasons)];
  e.severity = static_cast<Severity>(rng() % 5);
  e.layer = static_cast<Layer>(rng() % 3);
  e.uid = ids::event_uid();
  e.request_id = ids::request_id();
  e.action = static_cast<Action>(rng() % 3);
  e.retry = e.action == Action::kRedact;
  e.path_hash = path_hash("/v1/chat/completions");
  e.rule_version = 4521;
  e.model = "gpt-4o-mini";
  e.upstream = "openai";
  return e;
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time of the calling thread.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU time (user + system) of the whole process so far: independent of how busy the machine
// is, unlike wall time.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Scheduler figures of this process's threads named `name` (the store names its threads:
// edgeward-store, edgeward-ckpt), from /proc/self/task/*/schedstat: seconds on a CPU, and
// seconds spent runnable but waiting for a CPU (taken by other processes on a busy machine).
struct SchedSeconds {
  double on_cpu = 0;
  double runqueue = 0;
};
SchedSeconds named_thread_sched(const std::string& name) {
  SchedSeconds total;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string c;
    std::getline(comm, c);
    if (c != name) continue;
    std::ifstream sched(task.path() / "schedstat");
    double on_cpu_ns = 0, runqueue_ns = 0;
    sched >> on_cpu_ns >> runqueue_ns;
    total.on_cpu += on_cpu_ns / 1e9;
    total.runqueue += runqueue_ns / 1e9;
  }
  return total;
}

int insert(const std::string& dir, std::size_t n, int producers, bool normal) {
  std::mt19937_64 rng(1);
  std::vector<std::vector<Event>> per(static_cast<std::size_t>(producers));
  const auto now = timefmt::now();
  for (std::size_t i = 0; i < n; ++i) per[i % per.size()].push_back(make(rng, now));
  WriterOptions options;
  options.queue_capacity = n;  // measure throughput, not the drop policy
  options.synchronous = normal ? Synchronous::kNormal : Synchronous::kFull;
  auto writer = EventWriter::open(dir, options);
  if (!writer) {
    std::fprintf(stderr, "open: %s\n", writer.error().message.c_str());
    return 2;
  }
  auto& w = **writer;
  std::vector<double> submit_s(per.size());
  std::vector<double> submit_cpu(per.size());
  const double cpu_start = cpu_seconds();
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < per.size(); ++t) {
    threads.emplace_back([&, t] {
      const auto s = Clock::now();
      const double c0 = thread_cpu_seconds();
      for (auto& e : per[t]) {
        if (!w.submit(std::move(e))) std::abort();
      }
      submit_cpu[t] = thread_cpu_seconds() - c0;
      submit_s[t] = seconds(Clock::now() - s);
    });
  }
  for (auto& t : threads) t.join();
  while (w.counters().committed < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
  const double total = seconds(Clock::now() - start);
  const double cpu = cpu_seconds() - cpu_start;
  // Read before shutdown() ends the threads.
  const SchedSeconds store = named_thread_sched("edgeward-store");
  const double store_cpu = store.on_cpu;
  const double ckpt_cpu = named_thread_sched("edgeward-ckpt").on_cpu;
  const auto c = w.counters();
  if (auto st = w.shutdown(); !st) return 2;
  const double submit_ns = *std::max_element(submit_s.begin(), submit_s.end()) * 1e9 /
                           static_cast<double>(n / per.size());
  std::printf("insert: %zu events, %d producers, synchronous=%s\n", n, producers,
              normal ? "NORMAL" : "FULL");
  std::printf("  committed in %.3f s = %.0f events/s (%llu batches, avg %.0f events/batch)\n",
              total, static_cast<double>(n) / total, static_cast<unsigned long long>(c.batches),
              static_cast<double>(n) / static_cast<double>(c.batches));
  std::printf("  submit(): %.0f ns/event per producer thread\n", submit_ns);
  double producers_cpu = 0;
  for (double c : submit_cpu) producers_cpu += c;
  const double writer_cpu = cpu - producers_cpu;
  std::printf("  CPU (all threads, submit to commit): %.2f us/event = %.0f events per CPU-second\n",
              cpu * 1e6 / static_cast<double>(n), static_cast<double>(n) / cpu);
  std::printf(
      "    of which submit(): %.2f us/event; the rest (writer thread, SQLite): %.2f us/event "
      "= a ceiling of %.0f events/s for one writer core\n",
      producers_cpu * 1e6 / static_cast<double>(n), writer_cpu * 1e6 / static_cast<double>(n),
      static_cast<double>(n) / writer_cpu);
  std::printf(
      "    by thread: edgeward-store (the writer) %.2f us/event = a ceiling of %.0f events/s; "
      "edgeward-ckpt (checkpoints) %.2f us/event\n",
      store_cpu * 1e6 / static_cast<double>(n), static_cast<double>(n) / store_cpu,
      ckpt_cpu * 1e6 / static_cast<double>(n));
  // The writer's wall time minus the time it was runnable but had no CPU: what the run would
  // have taken had the machine been otherwise idle (an estimate; fsync waits stay in).
  std::printf(
      "    the writer waited %.2f s of the %.2f s for a CPU (load from other processes); "
      "without that wait: %.0f events/s\n",
      store.runqueue, total, static_cast<double>(n) / std::max(total - store.runqueue, 1e-9));
  return 0;
}

int fill(const std::string& dir, std::size_t n, int days) {
  std::mt19937_64 rng(2);
  WriterOptions options;
  options.queue_capacity = 200000;
  options.retention.max_rows = static_cast<std::int64_t>(n) + 1;
  options.retention.retention = std::chrono::hours(24 * (days + 1));
  auto writer = EventWriter::open(dir, options);
  if (!writer) {
    std::fprintf(stderr, "open: %s\n", writer.error().message.c_str());
    return 2;
  }
  const auto now = timefmt::now();
  const auto span = std::chrono::milliseconds(std::chrono::hours(24 * days));
  for (std::size_t i = 0; i < n; ++i) {
    // Ascending in time, as a real gateway writes them.
    const auto at = now - span + span * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(n);
    while (!(*writer)->submit(make(rng, at)))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (auto st = (*writer)->shutdown(); !st) return 2;
  std::printf("fill: %zu events over %d days\n", n, days);
  return 0;
}

int query(const std::string& dir, const std::string& severity, const std::string& since, int reps) {
  auto sev = parse_severity(severity);
  auto dur = units::parse_duration(since);
  if (!sev || !dur) {
    std::fprintf(stderr, "bad severity or duration\n");
    return 2;
  }
  std::vector<double> ms;
  std::size_t rows = 0;
  for (int i = 0; i < reps; ++i) {
    const auto start = Clock::now();
    auto q = EventQuery::open(dir);
    if (!q) {
      std::fprintf(stderr, "open: %s\n", q.error().message.c_str());
      return 2;
    }
    EventFilter f;
    f.severities = {*sev};
    f.since = timefmt::now() - *dur;
    f.limit = 50;
    auto r = q->list(f);
    if (!r) return 2;
    rows = r->size();
    ms.push_back(seconds(Clock::now() - start) * 1000);
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "query: --severity %s --since %s --limit 50: %zu rows; open+query min %.2f ms, "
      "median %.2f ms, max %.2f ms over %d runs\n",
      severity.c_str(), since.c_str(), rows, ms.front(), ms[ms.size() / 2], ms.back(), reps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 2 && a[0] == "insert") {
    return insert(a[1], a.size() > 2 ? std::stoul(a[2]) : 1000000,
                  a.size() > 3 ? std::stoi(a[3]) : 2, a.size() > 4 && a[4] == "normal");
  }
  if (a.size() == 4 && a[0] == "fill") return fill(a[1], std::stoul(a[2]), std::stoi(a[3]));
  if (a.size() >= 4 && a[0] == "query") {
    return query(a[1], a[2], a[3], a.size() > 4 ? std::stoi(a[4]) : 50);
  }
  std::fprintf(stderr,
               "usage: store_bench insert DIR [N] [PRODUCERS] [normal] | fill DIR N DAYS | "
               "query DIR SEVERITY SINCE [REPS]\n");
  return 2;
}
