// edgewardd: the gateway daemon (DESIGN §5).
//
//   edgewardd [--config FILE] [--check-config] [--listen ADDR] [--upstream URL]
//             [--state-dir DIR] [--version]
//
// Threads: the main thread runs a loop with the signal handlers, the admin endpoint, the
// systemd watchdog and the drain bound; `workers` threads each run a loop with a listener on the
// shared port (SO_REUSEPORT).
// Signals: SIGHUP reloads config (and rules, through the inspection hook) without dropping a
// connection; SIGTERM/SIGINT stop accepting, drain in-flight requests for at most
// limits.drain_timeout, then exit 0.

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/uv_handle.hpp"
#include "core/version.hpp"
#include "daemon/admin.hpp"
#include "daemon/config.hpp"
#include "daemon/inspection_hook.hpp"
#include "daemon/proxy.hpp"
#include "daemon/worker.hpp"

namespace edgeward::daemon {
namespace {

constexpr const char* kDefaultConfig = "/etc/edgeward/edgeward.yaml";

struct Flags {
  std::string config_path;
  bool config_given = false;
  bool check_config = false;
  bool version = false;
  ConfigOverrides overrides;
};

void usage(std::FILE* to) {
  std::fputs(
      "usage: edgewardd [--config FILE] [--check-config] [--listen ADDR] [--upstream URL]\n"
      "                 [--state-dir DIR] [--version]\n"
      "  --config FILE    YAML config (default /etc/edgeward/edgeward.yaml when it exists)\n"
      "  --check-config   validate the config: print every error (exit 1) or a summary (exit 0)\n"
      "  --listen ADDR    client listener, host:port (overrides `listen`)\n"
      "  --upstream URL   forward every path to URL (replaces `upstreams`)\n"
      "  --state-dir DIR  state directory (overrides `state_dir`)\n"
      "  --version        print the version and exit\n",
      to);
}

// Returns false (after printing why) on a bad command line.
bool parse_flags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::optional<std::string>& dest) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "edgewardd: %s needs a value\n", argv[i]);
        return false;
      }
      dest = argv[++i];
      return true;
    };
    if (a == "--config") {
      std::optional<std::string> v;
      if (!value(v)) return false;
      f.config_path = *v;
      f.config_given = true;
    } else if (a == "--check-config") {
      f.check_config = true;
    } else if (a == "--listen") {
      if (!value(f.overrides.listen)) return false;
    } else if (a == "--upstream") {
      if (!value(f.overrides.upstream)) return false;
    } else if (a == "--state-dir") {
      if (!value(f.overrides.state_dir)) return false;
    } else if (a == "--version") {
      f.version = true;
    } else if (a == "--print-config-reference") {
      // The key table of docs/configuration.md, generated from the schema.
      std::fputs(edgeward::config::render_markdown(config_schema()).c_str(), stdout);
      std::exit(0);
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else {
      std::fprintf(stderr, "edgewardd: unknown argument %s\n", argv[i]);
      usage(stderr);
      return false;
    }
  }
  return true;
}

// Loads the config named by the flags; prints every diagnostic to stderr on failure.
std::shared_ptr<const Config> load(const Flags& flags) {
  std::string path = flags.config_path;
  if (!flags.config_given && !flags.overrides.upstream) {
    // No file named: use the packaged default location when it exists.
    if (std::FILE* f = std::fopen(kDefaultConfig, "r")) {
      std::fclose(f);
      path = kDefaultConfig;
    }
  }
  auto config = std::make_shared<Config>();
  auto diags = load_config(path, flags.overrides, *config);
  if (!diags.empty()) {
    for (const auto& d : diags) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return nullptr;
  }
  return config;
}

void apply_logging(const Config& c) {
  log::Options o;
  o.level = log::parse_level(c.log.level).value_or(log::Level::info);
  o.format = log::parse_format(c.log.format).value_or(log::Format::text);
  log::configure(o);
}

class Daemon {
 public:
  Daemon(Flags flags, std::shared_ptr<const Config> config)
      : flags_(std::move(flags)), config_(std::move(config)), metrics_(registry_) {}

  int run();

 private:
  void on_signal(int signum);
  void reload();
  void begin_shutdown();
  void check_workers();
  void finish();
  std::string status_json() const;
  void notify_status();

  Flags flags_;
  std::shared_ptr<const Config> config_;
  MetricsRegistry registry_;
  ProxyMetrics metrics_;
  std::shared_ptr<InspectionHook> hook_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uv::UvLoop loop_;
  uv::Signal sighup_, sigterm_, sigint_;
  uv::Async worker_event_;
  uv::Timer watchdog_, drain_timer_;
  std::unique_ptr<AdminApp> admin_app_;
  std::unique_ptr<http::HttpServer> admin_;
  bool stopping_ = false;
  Counter* reloads_ok_ = nullptr;
  Counter* reloads_failed_ = nullptr;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

int Daemon::run() {
  const Config& c = *config_;
  apply_logging(c);
  reloads_ok_ = &registry_.counter("edgeward_config_reloads_total", "SIGHUP reloads by result.",
                                   {{"result", "ok"}});
  reloads_failed_ = &registry_.counter("edgeward_config_reloads_total", "SIGHUP reloads by result.",
                                       {{"result", "error"}});
  registry_.gauge("edgeward_workers", "Event-loop worker threads.")
      .set(static_cast<std::int64_t>(c.effective_workers()));

#ifdef EDGEWARD_HAVE_INSPECT
  auto hook = make_inspection_hook(c, registry_);
  if (!hook) {
    log::error("daemon.inspection_failed",
               {{"error", hook.error()}, {"message", log::Safe{hook.error().message}}});
    return 1;
  }
  hook_ = std::move(*hook);
#else
  log::warn("daemon.inspection_absent",
            {{"detail", "built without daemon/inspect: requests are forwarded uninspected"}});
#endif

  if (Status st = worker_event_.init(uv_async_init, loop_.get(), this,
                                     [](uv_async_t* a) {
                                       if (a->data) static_cast<Daemon*>(a->data)->check_workers();
                                     });
      !st) {
    return 1;
  }
  const unsigned n = c.effective_workers();
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(static_cast<int>(i), metrics_, hook_,
                                      [this] { uv_async_send(worker_event_.get()); });
    if (Status st = w->start(config_); !st) {
      log::error("daemon.listen_failed", {{"listen", log::Safe{c.listen}},
                                          {"error", st.error()},
                                          {"message", log::Safe{st.error().message}}});
      for (auto& started : workers_) started->stop();
      return 1;
    }
    workers_.push_back(std::move(w));
  }

  if (c.admin_listen) {
    admin_app_ = std::make_unique<AdminApp>(
        AdminApp::Sources{&registry_, [this] { return !stopping_ && (!hook_ || hook_->ready()); },
                          [this] { return status_json(); }});
    http::ServerLimits admin_limits;
    admin_limits.max_connections = 64;
    admin_ = std::make_unique<http::HttpServer>(loop_.get(), *admin_app_, admin_limits);
    if (Status st = admin_->listen(*c.admin_listen, false); !st) {
      // The gateway still serves traffic; only health checks and metrics are missing.
      log::error("daemon.admin_listen_failed", {{"listen", log::Safe{*c.admin_listen}},
                                                {"error", st.error()},
                                                {"message", log::Safe{st.error().message}}});
      admin_.reset();
    }
  }

  auto signal_cb = [](uv_signal_t* s, int signum) {
    if (s->data) static_cast<Daemon*>(s->data)->on_signal(signum);
  };
  if (!sighup_.init(uv_signal_init, loop_.get(), this) ||
      !sigterm_.init(uv_signal_init, loop_.get(), this) ||
      !sigint_.init(uv_signal_init, loop_.get(), this)) {
    return 1;
  }
  uv_signal_start(sighup_.get(), signal_cb, SIGHUP);
  uv_signal_start(sigterm_.get(), signal_cb, SIGTERM);
  uv_signal_start(sigint_.get(), signal_cb, SIGINT);
  ::signal(SIGPIPE, SIG_IGN);

  std::uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    if (watchdog_.init(uv_timer_init, loop_.get(), this)) {
      const std::uint64_t every_ms = std::max<std::uint64_t>(watchdog_usec / 2000, 100);
      uv_timer_start(
          watchdog_.get(), [](uv_timer_t*) { sd_notify(0, "WATCHDOG=1"); }, every_ms, every_ms);
    }
  }

  log::info("daemon.started", {{"version", log::Safe{version()}},
                               {"listen", log::Safe{c.listen}},
                               {"workers", n},
                               {"upstreams", c.upstreams.size()},
                               {"config", log::Safe{c.source.empty() ? "<flags>" : c.source}}});
  sd_notify(0, "READY=1");
  notify_status();

  uv_run(loop_.get(), UV_RUN_DEFAULT);
  return 0;
}

void Daemon::notify_status() {
  std::string s = "STATUS=";
  s += stopping_ ? "draining" : "serving";
  s += " on " + config_->listen + ", " + std::to_string(workers_.size()) + " workers, " +
       std::to_string(config_->upstreams.size()) + " upstreams";
  sd_notify(0, s.c_str());
}

void Daemon::on_signal(int signum) {
  if (signum == SIGHUP) {
    reload();
  } else {
    begin_shutdown();
  }
}

void Daemon::reload() {
  if (stopping_) return;
  sd_notify(0, "RELOADING=1");
  log::info("daemon.reloading", {});
  auto next = load(flags_);
  if (!next) {
    reloads_failed_->inc();
    log::error("daemon.reload_failed", {{"detail", "config invalid; keeping the running one"}});
    sd_notify(0, "READY=1\nSTATUS=reload failed: config invalid, running the previous one");
    return;
  }
  if (next->listen != config_->listen || next->admin_listen != config_->admin_listen ||
      next->effective_workers() != config_->effective_workers()) {
    log::warn("daemon.reload_needs_restart",
              {{"detail", "listen, admin_listen and workers change only on restart"}});
  }
  apply_logging(*next);
  if (hook_) {
    if (Status st = hook_->reload(*next); !st) {
      reloads_failed_->inc();
      log::error("daemon.reload_failed", {{"error", st.error()}});
      sd_notify(0, "READY=1\nSTATUS=reload failed: rules refused, running the previous ones");
      return;
    }
  }
  // Listener settings stay; routes, pools, limits and logging follow the new file.
  auto applied = std::make_shared<Config>(*next);
  applied->listen = config_->listen;
  applied->admin_listen = config_->admin_listen;
  applied->workers = config_->workers;
  config_ = applied;
  for (auto& w : workers_) w->reload(config_);
  if (admin_) admin_->set_limits(admin_->limits());
  reloads_ok_->inc();
  log::info("daemon.reloaded", {{"upstreams", config_->upstreams.size()}});
  sd_notify(0, "READY=1");
  notify_status();
}

void Daemon::begin_shutdown() {
  if (stopping_) {
    // A second signal: stop waiting.
    finish();
    return;
  }
  stopping_ = true;
  sd_notify(0, "STOPPING=1");
  notify_status();
  log::info("daemon.draining", {{"bound", config_->limits.drain_timeout}});
  for (auto& w : workers_) w->drain();
  if (drain_timer_.init(uv_timer_init, loop_.get(), this)) {
    uv_timer_start(
        drain_timer_.get(),
        [](uv_timer_t* t) {
          auto* self = static_cast<Daemon*>(t->data);
          if (!self) return;
          log::warn("daemon.drain_timeout", {{"detail", "cutting the remaining connections"}});
          self->finish();
        },
        static_cast<std::uint64_t>(config_->limits.drain_timeout.count()), 0);
  }
  check_workers();
}

void Daemon::check_workers() {
  if (!stopping_) return;
  for (auto& w : workers_) {
    if (!w->drained()) return;
  }
  finish();
}

void Daemon::finish() {
  for (auto& w : workers_) w->stop();
  workers_.clear();
  admin_.reset();
  sighup_.close();
  sigterm_.close();
  sigint_.close();
  worker_event_.close();
  watchdog_.close();
  drain_timer_.close();
  log::info("daemon.stopped", {});
  uv_stop(loop_.get());
}

std::string Daemon::status_json() const {
  std::string out;
  json::JsonWriter w(out);
  w.begin_object();
  w.field("version", version());
  w.key("state").string(stopping_ ? "draining" : "serving");
  w.key("uptime_seconds")
      .number(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  w.key("agent").null();
  w.key("rules");
  if (hook_) {
    hook_->write_status(w);
  } else {
    w.begin_object().field("state", "absent").end_object();
  }
  w.key("workers").number(static_cast<double>(workers_.size()));
  w.key("upstreams").begin_array();
  for (const auto& u : config_->upstreams) {
    w.begin_object().field("name", u.name).field("url", u.url).field("dialect", u.dialect);
    w.key("routes").begin_array();
    for (const auto& r : u.routes) w.string(r);
    w.end_array().end_object();
  }
  w.end_array();
  w.key("counters").begin_object();
  std::uint64_t total = 0;
  for (int i = 1; i <= 5; ++i) total += metrics_.requests_by_class[i]->value();
  w.key("requests").number(static_cast<double>(total));
  w.key("requests_5xx").number(static_cast<double>(metrics_.requests_by_class[5]->value()));
  w.key("open_connections").number(static_cast<double>(metrics_.open_connections.value()));
  w.key("active_requests").number(static_cast<double>(metrics_.active_requests.value()));
  w.end_object();
  w.end_object();
  return out;
}

}  // namespace
}  // namespace edgeward::daemon

int main(int argc, char** argv) {
  using namespace edgeward::daemon;
  Flags flags;
  if (!parse_flags(argc, argv, flags)) return 2;
  if (flags.version) {
    std::printf("edgewardd %s\n", std::string(edgeward::version()).c_str());
    return 0;
  }
  auto config = load(flags);
  if (flags.check_config) {
    if (!config) return 1;
    // Not the effective YAML: it would print the injected provider keys.
    std::printf("edgewardd: config OK (%s): listen %s, %zu upstream(s), %u worker(s)\n",
                config->source.empty() ? "defaults and flags" : config->source.c_str(),
                config->listen.c_str(), config->upstreams.size(), config->effective_workers());
    return 0;
  }
  if (!config) return 1;
  // The store holds block events and the rule blobs: private to the daemon's user however it is
  // started (the systemd unit sets the same UMask=0077).
  ::umask(0077);
  Daemon daemon(std::move(flags), std::move(config));
  return daemon.run();
}
