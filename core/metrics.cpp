#include "core/metrics.hpp"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace edgeward {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    sum_micros_.fetch_add(static_cast<std::uint64_t>(std::llround(value * 1e6)),
                          std::memory_order_relaxed);
  }
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}

double Histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

MetricsRegistry::Series& MetricsRegistry::series_for(std::string_view name, std::string_view help,
                                                     Type type, MetricLabels&& labels) {
  Family* family = nullptr;
  for (auto& f : families_) {
    if (f->name == name) {
      family = f.get();
      break;
    }
  }
  if (family == nullptr) {
    families_.push_back(
        std::make_unique<Family>(Family{std::string(name), std::string(help), type, {}}));
    family = families_.back().get();
  }
  assert(family->type == type && "metric registered twice with different types");
  for (auto& s : family->series) {
    if (s->labels == labels) return *s;
  }
  family->series.push_back(std::make_unique<Series>());
  family->series.back()->labels = std::move(labels);
  return *family->series.back();
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  MetricLabels labels) {
  std::lock_guard lock(mu_);
  Series& s = series_for(name, help, Type::counter, std::move(labels));
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, MetricLabels labels) {
  std::lock_guard lock(mu_);
  Series& s = series_for(name, help, Type::gauge, std::move(labels));
  if (!s.gauge && !s.read) s.gauge = std::make_unique<Gauge>();
  assert(s.gauge && "gauge name already used by a gauge callback");
  return *s.gauge;
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, MetricLabels labels) {
  std::lock_guard lock(mu_);
  Series& s = series_for(name, help, Type::histogram, std::move(labels));
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

void MetricsRegistry::gauge_callback(std::string_view name, std::string_view help,
                                     MetricLabels labels, std::function<double()> read) {
  std::lock_guard lock(mu_);
  Series& s = series_for(name, help, Type::gauge, std::move(labels));
  s.read = std::move(read);
}

namespace {

void append_escaped(std::string& out, std::string_view v, bool help) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && !help) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_labels(std::string& out, const MetricLabels& labels, std::string_view extra_key = {},
                   std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    append_escaped(out, v, false);
    out += '"';
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_number(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  out += buf;
}

}  // namespace

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  for (const auto& f : families_) {
    out += "# HELP ";
    out += f->name;
    out += ' ';
    append_escaped(out, f->help, true);
    out += "\n# TYPE ";
    out += f->name;
    out += f->type == Type::counter ? " counter\n"
           : f->type == Type::gauge ? " gauge\n"
                                    : " histogram\n";
    for (const auto& s : f->series) {
      if (f->type == Type::histogram && s->histogram) {
        const Histogram& h = *s->histogram;
        auto counts = h.bucket_counts();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          out += f->name;
          out += "_bucket";
          std::string le;
          if (i < h.bounds().size()) {
            append_number(le, h.bounds()[i]);
          } else {
            le = "+Inf";
          }
          append_labels(out, s->labels, "le", le);
          out += ' ';
          append_number(out, static_cast<double>(cumulative));
          out += '\n';
        }
        out += f->name;
        out += "_sum";
        append_labels(out, s->labels);
        out += ' ';
        append_number(out, h.sum());
        out += '\n';
        out += f->name;
        out += "_count";
        append_labels(out, s->labels);
        out += ' ';
        append_number(out, static_cast<double>(cumulative));
        out += '\n';
        continue;
      }
      out += f->name;
      append_labels(out, s->labels);
      out += ' ';
      if (s->counter) {
        append_number(out, static_cast<double>(s->counter->value()));
      } else if (s->gauge) {
        append_number(out, static_cast<double>(s->gauge->value()));
      } else if (s->read) {
        append_number(out, s->read());
      } else {
        out += '0';
      }
      out += '\n';
    }
  }
  return out;
}

}  // namespace edgeward
