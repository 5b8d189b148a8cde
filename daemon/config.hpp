#pragma once
// The daemon's configuration (DESIGN §5): the values, after parsing and validation.
//
// Rules:
//  - A Config is immutable once loaded; a reload builds a new one and swaps a shared_ptr, so a
//    request in flight keeps the settings it started with.
//  - The table in config.cpp (kConfigKeys) is the single description of every key: parsing,
//    --check-config and docs/configuration.md all come from it (a test checks the docs).
//  - Loading reports every error (file, line, key), never just the first.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/net/http_message.hpp"
#include "core/result.hpp"

namespace edgeward::daemon {

struct UpstreamConfig {
  std::string name;                 // "openai"
  std::string url;                  // "https://api.openai.com"
  std::vector<std::string> routes;  // path prefixes; the longest matching prefix wins
  std::string dialect = "auto";     // auto | openai | anthropic | ollama | generic
  bool tls_verify = true;
  std::string tls_ca_file;  // empty: the system store
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds response_timeout{600000};
  http::Headers headers;  // injected into every forwarded request (e.g. the provider key)
};

struct LimitsConfig {
  std::uint64_t max_request_body = 8ull << 20;
  std::uint64_t max_response_body = 32ull << 20;
  std::uint64_t max_header_bytes = 64ull << 10;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::uint64_t max_connections = 4096;
};

struct Config {
  std::string listen = "127.0.0.1:9087";
  std::string admin_listen = "127.0.0.1:9088";  // empty: no admin listener
  unsigned workers = 0;                         // 0 = auto (one per CPU)
  std::string state_dir = "/var/lib/edgeward";
  std::string mode = "enforce";      // enforce | monitor
  std::string fail_mode = "closed";  // closed | open
  std::vector<UpstreamConfig> upstreams;
  LimitsConfig limits;
  std::uint64_t streaming_holdback_bytes = 128;
  std::uint64_t events_retention_days = 30;
  std::uint64_t events_max_rows = 1000000;
  std::string rules_file;  // empty: none (enrolled blob or the embedded pack)
  std::vector<std::string> rules_trusted_keys;
  std::string log_level = "info";                  // debug | info | warn | error
  std::string log_format = "text";                 // text | json
  std::chrono::milliseconds drain_timeout{30000};  // SIGTERM: bound on draining in-flight work

  std::string source;  // the file it was loaded from, or "" for defaults + flags
};

}  // namespace edgeward::daemon
