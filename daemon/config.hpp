#pragma once
// The daemon's configuration (DESIGN §5): the values after parsing and validation.
//
// Rules:
//  - The schema table in config.cpp (config_schema()) is the single description of every key:
//    parsing, --check-config, the effective-config dump and docs/configuration.md all come from
//    it (tests/daemon/config_test.cpp checks that the docs carry the same table).
//  - A Config is immutable once loaded; a reload builds a new one and swaps a shared_ptr, so a
//    request in flight keeps the settings it started with.
//  - Loading reports every error (file, line, column, key), never just the first.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/net/http_message.hpp"
#include "core/result.hpp"

namespace edgeward::daemon {

struct TlsConfig {
  bool verify = true;
  std::optional<std::string> ca_file;  // null: the system store
};

struct UpstreamConfig {
  std::string name;                 // "openai"
  std::string url;                  // "https://api.openai.com"
  std::vector<std::string> routes;  // path prefixes; the longest matching prefix wins
  std::string dialect = "auto";     // auto | openai | anthropic | ollama | generic
  TlsConfig tls;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds response_timeout{600000};
  // "Name: value" lines injected into every forwarded request (e.g. the provider key), parsed
  // into `headers` by load_config.
  std::vector<std::string> header_lines;
  http::Headers headers;
};

struct LimitsConfig {
  std::uint64_t max_request_body = 8ull << 20;
  std::uint64_t max_response_body = 32ull << 20;
  std::uint64_t max_header_bytes = 64ull << 10;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::uint64_t max_connections = 4096;
  std::chrono::milliseconds drain_timeout{30000};  // SIGTERM: bound on draining in-flight work
};

struct StreamingConfig {
  std::uint64_t holdback_bytes = 128;
};

struct EventsConfig {
  std::uint64_t retention_days = 30;
  std::uint64_t max_rows = 1000000;
};

struct RulesConfig {
  std::optional<std::string> file;  // a signed blob for air-gapped sites
  std::vector<std::string> trusted_keys;
};

struct LogConfig {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "text";  // text | json
};

struct Config {
  std::string listen = "127.0.0.1:9087";
  std::optional<std::string> admin_listen = std::string("127.0.0.1:9088");  // null: none
  unsigned workers = 0;                                                     // 0 = auto
  std::string state_dir = "/var/lib/edgeward";
  std::string mode = "enforce";      // enforce | monitor
  std::string fail_mode = "closed";  // closed | open
  std::vector<UpstreamConfig> upstreams;
  LimitsConfig limits;
  StreamingConfig streaming;
  EventsConfig events;
  RulesConfig rules;
  LogConfig log;

  std::string source;  // the file it was loaded from, or "" for defaults + flags

  // The worker count to run: `workers`, or one per CPU when 0 (auto).
  unsigned effective_workers() const;
};

// The schema of the whole file (DESIGN §5).
const config::Schema<Config>& config_schema();

// Command-line overrides (DESIGN §5 flags).
struct ConfigOverrides {
  std::optional<std::string> listen;     // --listen ADDR
  std::optional<std::string> upstream;   // --upstream URL: replaces upstreams[] with one, "/"
  std::optional<std::string> state_dir;  // --state-dir DIR
};

// Loads `path` (or the defaults when empty), applies the overrides and the cross-checks that
// span keys (at least one upstream, unique names, header lines). Every problem is returned as
// one diagnostic each; an empty list means `out` is valid.
std::vector<config::Diagnostic> load_config(const std::string& path,
                                            const ConfigOverrides& overrides, Config& out);

}  // namespace edgeward::daemon
