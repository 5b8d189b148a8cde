#include "daemon/config.hpp"

#include <thread>

#include "core/net/http_client.hpp"
#include "core/net/http_parser.hpp"
#include "core/net/http_server.hpp"
#include "core/net/tls.hpp"

namespace edgeward::daemon {

namespace {

Status check_listen(std::string_view v) {
  auto a = http::parse_socket_address(v);
  if (!a) return a.error();
  return {};
}

Status check_admin_listen(std::string_view v) {
  if (v.substr(0, 5) == "unix:") {
    if (v.size() == 5 || v[5] != '/') {
      return make_error("listen.bad_address", "unix socket path must be absolute");
    }
    return {};
  }
  return check_listen(v);
}

Status check_url(std::string_view v) {
  auto t = http::parse_upstream_url(v);
  if (!t) return t.error();
  return {};
}

Status check_route(std::string_view v) {
  if (v.empty() || v.front() != '/') {
    return make_error("config.bad_route", "a route is a path prefix starting with '/'");
  }
  return {};
}

// "Name: value". The value is a secret (a provider key): it never appears in an error.
Status check_header_line(std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos || !http::is_token(v.substr(0, colon))) {
    return make_error("config.bad_header",
                      "expected \"Name: value\" with a valid header name (value not shown)");
  }
  for (char c : v) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return make_error("config.bad_header", "header line contains CR, LF or NUL");
    }
  }
  return {};
}

Status check_name(std::string_view v) {
  if (v.empty() || !http::is_token(v)) {
    return make_error("config.bad_name", "names use letters, digits and -._ only");
  }
  return {};
}

Status check_absolute_path(std::string_view v) {
  if (v.empty() || v.front() != '/') {
    return make_error("config.bad_path", "must be an absolute path");
  }
  return {};
}

using config::Bool;
using config::ByteSize;
using config::Choice;
using config::Duration;
using config::Int;
using config::Object;
using config::ObjectList;
using config::Schema;
using config::String;
using config::StringList;
using std::chrono::milliseconds;

const Schema<TlsConfig>& tls_schema() {
  static const Schema<TlsConfig> s{
      {"verify", Bool{}, "true", &TlsConfig::verify,
       "Verify the upstream's certificate chain and host name."},
      {"ca_file", String{.type = "path", .check = check_absolute_path}, "null", &TlsConfig::ca_file,
       "PEM bundle of trusted CAs; null uses the system store."},
  };
  return s;
}

const Schema<UpstreamConfig>& upstream_schema() {
  static const Schema<UpstreamConfig> s{
      {"name", String{.type = "name", .check = check_name}, config::kRequired,
       &UpstreamConfig::name, "Name used in logs, metrics and events."},
      {"url", String{.type = "URL", .check = check_url, .secret = true}, config::kRequired,
       &UpstreamConfig::url, "http:// or https:// origin of the LLM endpoint (no path)."},
      {"routes", StringList{.type = "path prefix", .check = check_route}, "[\"/\"]",
       &UpstreamConfig::routes,
       "Request path prefixes sent to this upstream; the longest match wins."},
      {"dialect", Choice{"auto", "openai", "anthropic", "ollama", "generic"}, "auto",
       &UpstreamConfig::dialect, "API family for inspection and error shapes; auto: by path."},
      {"tls", Object{tls_schema()}, "", &UpstreamConfig::tls, "TLS settings for https URLs."},
      {"connect_timeout", Duration{.min = milliseconds(1)}, "5s", &UpstreamConfig::connect_timeout,
       "DNS + TCP connect + TLS handshake bound (then 502/504)."},
      {"response_timeout", Duration{.min = milliseconds(1)}, "10m",
       &UpstreamConfig::response_timeout,
       "Longest wait for the response head, and longest silence within the body (then 504); while "
       "request bytes are still being sent, only a period without write progress counts."},
      // Secret: no error quotes them. load_config checks the lines itself (check_header_line).
      {"headers", StringList{.type = "\"Name: value\"", .secret = true}, "[]",
       &UpstreamConfig::header_lines,
       "Headers set on every forwarded request, e.g. \"Authorization: Bearer sk-…\"."},
  };
  return s;
}

const Schema<LimitsConfig>& limits_schema() {
  static const Schema<LimitsConfig> s{
      {"max_request_body", ByteSize{.min = 1}, "8MiB", &LimitsConfig::max_request_body,
       "Largest request body; larger gets 413 POLICY.BODY_TOO_LARGE."},
      {"max_response_body", ByteSize{.min = 1}, "32MiB", &LimitsConfig::max_response_body,
       "Largest response body buffered for inspection; larger gets 502."},
      {"max_header_bytes", ByteSize{.min = 1024, .max = 16u << 20}, "64KiB",
       &LimitsConfig::max_header_bytes, "Largest request head; larger gets 431."},
      {"header_timeout", Duration{.min = milliseconds(1)}, "10s", &LimitsConfig::header_timeout,
       "Time for a client to send a whole request head; then 408."},
      {"idle_timeout", Duration{.min = milliseconds(1)}, "60s", &LimitsConfig::idle_timeout,
       "Keep-alive wait between requests, and longest stall of a request body or response "
       "write."},
      {"max_connections", Int{.min = 1, .max = 1000000}, "4096", &LimitsConfig::max_connections,
       "Client connections per worker; beyond it 503."},
      {"drain_timeout", Duration{}, "30s", &LimitsConfig::drain_timeout,
       "On SIGTERM, how long in-flight requests may take before connections are cut."},
  };
  return s;
}

const Schema<StreamingConfig>& streaming_schema() {
  static const Schema<StreamingConfig> s{
      {"holdback_bytes", ByteSize{.max = 1u << 20}, "128", &StreamingConfig::holdback_bytes,
       "Streamed text held back so that a redact rule can rewrite a match before it leaves."},
  };
  return s;
}

const Schema<EventsConfig>& events_schema() {
  static const Schema<EventsConfig> s{
      {"retention_days", Int{.min = 1, .max = 3650}, "30", &EventsConfig::retention_days,
       "Days block events are kept in the local store."},
      {"max_rows", Int{.min = 1000}, "1000000", &EventsConfig::max_rows,
       "Most events kept; the oldest (uploaded first) are pruned."},
  };
  return s;
}

const Schema<RulesConfig>& rules_schema() {
  static const Schema<RulesConfig> s{
      {"file", String{.type = "path", .check = check_absolute_path}, "null", &RulesConfig::file,
       "A signed rule blob to load (air-gapped sites); null: enrolled rules or the embedded "
       "pack."},
      {"trusted_keys", StringList{.type = "key"}, "[]", &RulesConfig::trusted_keys,
       "Ed25519 public keys (base64) whose signatures are accepted on rule blobs."},
  };
  return s;
}

const Schema<LogConfig>& log_schema() {
  static const Schema<LogConfig> s{
      {"level", Choice{"debug", "info", "warn", "error"}, "info", &LogConfig::level,
       "Least severe level written."},
      {"format", Choice{"text", "json"}, "text", &LogConfig::format,
       "Line format on stderr (journald)."},
  };
  return s;
}

}  // namespace

const config::Schema<Config>& config_schema() {
  static const Schema<Config> s{
      {
          {"listen", String{.type = "address", .check = check_listen}, "127.0.0.1:9087",
           &Config::listen, "Where applications connect (host:port, [v6]:port)."},
          {"admin_listen", String{.type = "address", .check = check_admin_listen}, "127.0.0.1:9088",
           &Config::admin_listen,
           "Admin endpoint (/healthz, /readyz, /status, /metrics): host:port or "
           "unix:/path; null disables it."},
          {"workers", Int{.min = 1, .max = 256, .keywords = {{"auto", 0}}}, "auto",
           &Config::workers,
           "Event-loop threads sharing the port (SO_REUSEPORT); auto: one per "
           "CPU."},
          {"state_dir", String{.type = "path", .check = check_absolute_path}, "/var/lib/edgeward",
           &Config::state_dir, "Event store, rules and enrollment state."},
          {"mode", Choice{"enforce", "monitor"}, "enforce", &Config::mode,
           "monitor turns every block into monitor (events only)."},
          {"fail_mode", Choice{"closed", "open"}, "closed", &Config::fail_mode,
           "With no valid rules: closed answers 503 POLICY.RULES_UNAVAILABLE, open forwards."},
          {"upstreams", ObjectList{upstream_schema()}, "[]", &Config::upstreams,
           "LLM endpoints and the paths routed to them."},
          {"limits", Object{limits_schema()}, "", &Config::limits, "Client-side limits."},
          {"streaming", Object{streaming_schema()}, "", &Config::streaming, "Streamed responses."},
          {"events", Object{events_schema()}, "", &Config::events, "The local event store."},
          {"rules", Object{rules_schema()}, "", &Config::rules, "Rule sources."},
          {"log", Object{log_schema()}, "", &Config::log, "Logging to stderr."},
      },
      [](const Config& c, config::Checker& check) {
        for (std::size_t i = 0; i < c.upstreams.size(); ++i) {
          // A CA file that cannot be read would fail every request with a 502: say so now
          // (and in --check-config), with OpenSSL's reason.
          const TlsConfig& t = c.upstreams[i].tls;
          if (t.verify && t.ca_file) {
            auto ctx = tls::TlsContext::client(true, *t.ca_file);
            if (!ctx) {
              check.fail("upstreams", i, make_error("config.bad_ca_file", ctx.error().message));
            }
          }
          for (std::size_t j = 0; j < i; ++j) {
            if (c.upstreams[i].name == c.upstreams[j].name) {
              check.fail("upstreams", i,
                         make_error("config.duplicate_upstream",
                                    "upstream name \"" + c.upstreams[i].name + "\" is used twice"));
            }
          }
        }
      }};
  return s;
}

unsigned Config::effective_workers() const {
  if (workers > 0) return workers;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

std::vector<config::Diagnostic> load_config(const std::string& path,
                                            const ConfigOverrides& overrides, Config& out) {
  std::vector<config::Diagnostic> diags;
  if (path.empty()) {
    auto d = config::defaults(config_schema());
    diags = d.diagnostics();
    out = std::move(d.value());
  } else {
    auto loaded = config::load_file(config_schema(), path);
    diags = loaded.diagnostics();
    out = std::move(loaded.value());
    out.source = path;
  }
  auto add = [&](std::vector<config::Diagnostic> more) {
    diags.insert(diags.end(), more.begin(), more.end());
  };
  if (overrides.listen) {
    add(config::set_from_text(config_schema(), out, "listen", *overrides.listen, "--listen"));
  }
  if (overrides.state_dir) {
    add(config::set_from_text(config_schema(), out, "state_dir", *overrides.state_dir,
                              "--state-dir"));
  }
  if (overrides.upstream) {
    // One upstream for every path, named after nothing in particular: "default".
    if (Status st = check_url(*overrides.upstream); !st) {
      diags.push_back(config::Diagnostic{"--upstream", 0, 0, "upstreams", st.error()});
    } else {
      UpstreamConfig up;
      up.name = "default";
      up.url = *overrides.upstream;
      up.routes = {"/"};
      out.upstreams.clear();
      out.upstreams.push_back(std::move(up));
    }
  }
  if (out.upstreams.empty()) {
    diags.push_back(config::Diagnostic{
        out.source.empty() ? "<flags>" : out.source, 0, 0, "upstreams",
        make_error("config.no_upstream",
                   "no upstream configured: add upstreams[] to the file or pass --upstream URL")});
  }
  for (std::size_t u = 0; u < out.upstreams.size(); ++u) {
    UpstreamConfig& up = out.upstreams[u];
    up.headers = http::Headers{};
    for (std::size_t i = 0; i < up.header_lines.size(); ++i) {
      const std::string& line = up.header_lines[i];
      if (Status st = check_header_line(line); !st) {
        diags.push_back(config::Diagnostic{
            out.source.empty() ? "<flags>" : out.source, 0, 0,
            "upstreams[" + std::to_string(u) + "].headers[" + std::to_string(i) + "]", st.error()});
        continue;
      }
      auto colon = line.find(':');
      std::string_view value = std::string_view(line).substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
      }
      up.headers.add(line.substr(0, colon), std::string(value));
    }
  }
  return diags;
}

}  // namespace edgeward::daemon
