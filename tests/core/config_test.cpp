#include "core/config.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace config = edgeward::config;
using edgeward::Error;
using edgeward::Status;
using std::chrono::milliseconds;

// A schema mirroring DESIGN §5, to prove the API expresses every kind of key the daemon needs.
namespace {

enum class Mode { enforce, monitor };
enum class FailMode { closed, open };
enum class Dialect { automatic, openai, anthropic, ollama, generic };

struct Tls {
  bool verify = false;
  std::optional<std::string> ca_file;
};
struct Upstream {
  std::string name;
  std::string url;
  std::vector<std::string> routes;
  Dialect dialect = Dialect::generic;
  Tls tls;
  milliseconds connect_timeout{0};
  milliseconds response_timeout{0};
};
struct Limits {
  std::uint64_t max_request_body = 0;
  std::uint64_t max_response_body = 0;
  std::uint64_t max_header_bytes = 0;
  milliseconds header_timeout{0};
  milliseconds idle_timeout{0};
  int max_connections = 0;
};
struct Streaming {
  std::uint32_t holdback_bytes = 0;
};
struct Events {
  int retention_days = 0;
  std::int64_t max_rows = 0;
};
struct Rules {
  std::optional<std::string> file;
  std::vector<std::string> trusted_keys;
};
struct Log {
  std::string level;
  std::string format;
};
struct DaemonConfig {
  std::string listen;
  std::string admin_listen;
  int workers = -1;
  std::string state_dir;
  Mode mode = Mode::monitor;
  FailMode fail_mode = FailMode::open;
  std::vector<Upstream> upstreams;
  Limits limits;
  Streaming streaming;
  Events events;
  Rules rules;
  Log log;
};

Status check_address(std::string_view s) {
  if (s.rfind("unix:/", 0) == 0) return {};
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    return Error{"config.bad_address", "bad address: expected HOST:PORT or unix:PATH"};
  }
  return {};
}

Status check_url(std::string_view s) {
  if (s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0) return {};
  return Error{"config.bad_url", "bad URL: expected http:// or https://"};
}

Status check_route(std::string_view s) {
  if (!s.empty() && s[0] == '/') return {};
  return Error{"config.bad_route", "bad route: a path prefix starts with /"};
}

const config::Schema<Tls> kTls{
    {"verify", config::Bool{}, "true", &Tls::verify, "Verify the upstream's certificate."},
    {"ca_file", config::String{.type = "path"}, "null", &Tls::ca_file,
     "CA bundle; null: the system's."},
};

const config::Schema<Upstream> kUpstream{
    {
        {"name", config::String{}, config::kRequired, &Upstream::name, "Name in events and logs."},
        {"url", config::String{.type = "URL", .check = check_url}, config::kRequired,
         &Upstream::url, "Where requests go."},
        {"routes", config::StringList{.type = "path prefix", .check = check_route}, "[\"/\"]",
         &Upstream::routes, "Path prefixes routed here."},
        {"dialect",
         config::Enum<Dialect>{{"auto", Dialect::automatic},
                               {"openai", Dialect::openai},
                               {"anthropic", Dialect::anthropic},
                               {"ollama", Dialect::ollama},
                               {"generic", Dialect::generic}},
         "auto", &Upstream::dialect, "Request format; auto picks by path."},
        {"tls", config::Object{kTls}, "", &Upstream::tls, "TLS to the upstream."},
        {"connect_timeout", config::Duration{.min = milliseconds{1}}, "5s",
         &Upstream::connect_timeout, "Connect timeout."},
        {"response_timeout", config::Duration{.min = milliseconds{1}}, "10m",
         &Upstream::response_timeout, "Response timeout."},
    },
    [](const Upstream& u, config::Checker& c) {
      if (u.name == "reserved") c.fail("name", Error{"config.reserved_name", "name is reserved"});
    }};

const config::Schema<Limits> kLimits{
    {"max_request_body", config::ByteSize{}, "8MiB", &Limits::max_request_body,
     "Largest request body; larger gets 413."},
    {"max_response_body", config::ByteSize{}, "32MiB", &Limits::max_response_body,
     "Largest buffered response body."},
    {"max_header_bytes", config::ByteSize{.min = 1024, .max = 1024 * 1024}, "64KiB",
     &Limits::max_header_bytes, "Largest header block."},
    {"header_timeout", config::Duration{}, "10s", &Limits::header_timeout, "Header timeout."},
    {"idle_timeout", config::Duration{}, "60s", &Limits::idle_timeout, "Idle timeout."},
    {"max_connections", config::Int{.min = 1, .max = 1'000'000}, "4096", &Limits::max_connections,
     "Concurrent client connections."},
};
const config::Schema<Streaming> kStreaming{
    {"holdback_bytes", config::Int{.min = 0, .max = 65536}, "128", &Streaming::holdback_bytes,
     "Text held back for redaction | per stream."},
};
const config::Schema<Events> kEvents{
    {"retention_days", config::Int{.min = 1}, "30", &Events::retention_days, "Days kept."},
    {"max_rows", config::Int{.min = 1}, "1000000", &Events::max_rows, "Rows kept."},
};
const config::Schema<Rules> kRules{
    {"file", config::String{.type = "path"}, "null", &Rules::file, "A signed blob."},
    {"trusted_keys", config::StringList{.type = "public key"}, "[]", &Rules::trusted_keys,
     "Extra trusted keys."},
};
const config::Schema<Log> kLog{
    {"level", config::Choice{"debug", "info", "warn", "error"}, "info", &Log::level, "Level."},
    {"format", config::Choice{"text", "json"}, "text", &Log::format, "Format."},
};

const config::Schema<DaemonConfig> kDaemon{
    {
        {"listen", config::String{.type = "address", .check = check_address}, "127.0.0.1:9087",
         &DaemonConfig::listen, "Where applications connect."},
        {"admin_listen", config::String{.type = "address", .check = check_address},
         "127.0.0.1:9088", &DaemonConfig::admin_listen, "Admin endpoint."},
        {"workers", config::Int{.min = 1, .max = 256, .keywords = {{"auto", 0}}}, "auto",
         &DaemonConfig::workers, "Event-loop threads."},
        {"state_dir", config::String{.type = "path"}, "/var/lib/edgeward", &DaemonConfig::state_dir,
         "State directory."},
        {"mode", config::Enum<Mode>{{"enforce", Mode::enforce}, {"monitor", Mode::monitor}},
         "enforce", &DaemonConfig::mode, "enforce or monitor."},
        {"fail_mode",
         config::Enum<FailMode>{{"closed", FailMode::closed}, {"open", FailMode::open}}, "closed",
         &DaemonConfig::fail_mode, "Without rules."},
        {"upstreams", config::ObjectList{kUpstream}, "[]", &DaemonConfig::upstreams,
         "LLM endpoints."},
        {"limits", config::Object{kLimits}, "", &DaemonConfig::limits, "Limits."},
        {"streaming", config::Object{kStreaming}, "", &DaemonConfig::streaming, "Streaming."},
        {"events", config::Object{kEvents}, "", &DaemonConfig::events, "Event store."},
        {"rules", config::Object{kRules}, "", &DaemonConfig::rules, "Rules."},
        {"log", config::Object{kLog}, "", &DaemonConfig::log, "Logging."},
    },
    [](const DaemonConfig& d, config::Checker& c) {
      for (std::size_t i = 0; i < d.upstreams.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (d.upstreams[i].name == d.upstreams[j].name) {
            c.fail("upstreams", i, Error{"config.duplicate_upstream", "upstream name used twice"});
          }
        }
      }
    }};

// DESIGN §5's example file, verbatim.
const char* const kDesignExample = R"(listen: 127.0.0.1:9087
admin_listen: 127.0.0.1:9088          # or unix:/run/edgeward/admin.sock
workers: auto                          # event-loop threads (SO_REUSEPORT)
state_dir: /var/lib/edgeward
mode: enforce                          # enforce | monitor (every block becomes monitor)
fail_mode: closed                      # closed | open
upstreams:
  - name: openai
    url: https://api.openai.com
    routes: ["/v1/"]
    dialect: auto
    tls: { verify: true, ca_file: null }
    connect_timeout: 5s
    response_timeout: 10m
limits: { max_request_body: 8MiB, max_response_body: 32MiB, max_header_bytes: 64KiB,
          header_timeout: 10s, idle_timeout: 60s, max_connections: 4096 }
streaming: { holdback_bytes: 128 }
events: { retention_days: 30, max_rows: 1000000 }
rules: { file: null, trusted_keys: [] }   # file: a signed blob for air-gapped sites
log: { level: info, format: text }        # text | json, to stderr (journald)
)";

config::Loaded<DaemonConfig> load(const std::string& yaml) {
  return config::load_string(kDaemon, yaml, "edgeward.yaml");
}

// The single diagnostic of a load that must fail with exactly one.
config::Diagnostic only_error(const std::string& yaml) {
  auto loaded = load(yaml);
  INFO(loaded.report());
  REQUIRE(loaded.diagnostics().size() == 1);
  return loaded.diagnostics()[0];
}

}  // namespace

TEST_CASE("DESIGN §5's example config loads into typed values", "[config]") {
  auto loaded = load(kDesignExample);
  INFO(loaded.report());
  REQUIRE(loaded.ok());
  const DaemonConfig& c = loaded.value();
  CHECK(c.listen == "127.0.0.1:9087");
  CHECK(c.workers == 0);
  CHECK(c.mode == Mode::enforce);
  CHECK(c.fail_mode == FailMode::closed);
  REQUIRE(c.upstreams.size() == 1);
  CHECK(c.upstreams[0].name == "openai");
  CHECK(c.upstreams[0].routes == std::vector<std::string>{"/v1/"});
  CHECK(c.upstreams[0].dialect == Dialect::automatic);
  CHECK(c.upstreams[0].tls.verify);
  CHECK_FALSE(c.upstreams[0].tls.ca_file.has_value());
  CHECK(c.upstreams[0].connect_timeout == milliseconds{5000});
  CHECK(c.upstreams[0].response_timeout == milliseconds{600'000});
  CHECK(c.limits.max_request_body == 8u * 1024 * 1024);
  CHECK(c.limits.max_header_bytes == 64u * 1024);
  CHECK(c.limits.idle_timeout == milliseconds{60'000});
  CHECK(c.limits.max_connections == 4096);
  CHECK(c.streaming.holdback_bytes == 128);
  CHECK(c.events.max_rows == 1'000'000);
  CHECK_FALSE(c.rules.file.has_value());
  CHECK(c.log.format == "text");
}

TEST_CASE("an empty file and the schema's defaults give the same values", "[config]") {
  auto empty = load("");
  REQUIRE(empty.ok());
  auto defaults = config::defaults(kDaemon);
  INFO(defaults.report());
  REQUIRE(defaults.ok());
  for (const auto* c : {&empty.value(), &defaults.value()}) {
    CHECK(c->listen == "127.0.0.1:9087");
    CHECK(c->workers == 0);
    CHECK(c->mode == Mode::enforce);
    CHECK(c->upstreams.empty());
    CHECK(c->limits.max_response_body == 32u * 1024 * 1024);
    CHECK(c->events.retention_days == 30);
    CHECK(c->log.level == "info");
  }
  CHECK(load("# only a comment\n").ok());
  CHECK(load("limits:\n").ok());  // an empty object means its defaults
}

TEST_CASE("nested defaults fill the keys a list element leaves out", "[config]") {
  auto loaded = load(
      "upstreams:\n  - name: a\n    url: http://x\n  - name: b\n    url: http://y\n"
      "    tls: { verify: false, ca_file: /etc/ca.pem }\n");
  INFO(loaded.report());
  REQUIRE(loaded.ok());
  const auto& ups = loaded.value().upstreams;
  REQUIRE(ups.size() == 2);
  CHECK(ups[0].tls.verify);
  CHECK(ups[0].routes == std::vector<std::string>{"/"});
  CHECK(ups[0].dialect == Dialect::automatic);
  CHECK_FALSE(ups[1].tls.verify);
  CHECK(ups[1].tls.ca_file == std::optional<std::string>("/etc/ca.pem"));
}

TEST_CASE("a bad byte size names file, line, column, key path, value and code", "[config]") {
  const auto d = only_error("listen: 127.0.0.1:1\nlimits:\n  max_request_body: ten\n");
  CHECK(d.file == "edgeward.yaml");
  CHECK(d.line == 3);
  CHECK(d.column == 21);
  CHECK(d.path == "limits.max_request_body");
  CHECK(d.error.code == "bytes.bad_format");
  CHECK(d.to_string() ==
        "edgeward.yaml:3:21: limits.max_request_body: bad byte size \"ten\": expected "
        "<integer>[unit] (bytes.bad_format)");
}

TEST_CASE("unknown keys are errors at the key, with a suggestion when one is close", "[config]") {
  const auto d = only_error("limits:\n  max_reqest_body: 1MiB\n");
  CHECK(d.error.code == "config.unknown_key");
  CHECK(d.line == 2);
  CHECK(d.column == 3);
  CHECK(d.path == "limits.max_reqest_body");
  CHECK(d.error.message == "unknown key \"max_reqest_body\" (did you mean \"max_request_body\"?)");
  const auto far = only_error("colour: blue\n");
  CHECK(far.error.message == "unknown key \"colour\"");
  CHECK(far.path == "colour");
}

TEST_CASE("wrong types are errors naming what was expected and what was found", "[config]") {
  CHECK(only_error("listen: [a, b]\n").error.code == "config.wrong_type");
  CHECK(only_error("limits: 5\n").error.message == "expected a mapping, got \"5\"");
  CHECK(only_error("upstreams: {name: a}\n").error.message ==
        "expected list of objects, got a mapping");
  const auto flag = only_error("upstreams: [{name: a, url: 'http://x', tls: {verify: yes}}]\n");
  CHECK(flag.error.code == "config.wrong_type");
  CHECK(flag.path == "upstreams[0].tls.verify");
  CHECK(flag.error.message == "expected bool, got \"yes\"");
  const auto workers = only_error("workers: many\n");
  CHECK(workers.error.code == "config.wrong_type");
  CHECK(workers.error.message == "expected `auto` or integer 1–256, got \"many\"");
  const auto routes = only_error("upstreams: [{name: a, url: 'http://x', routes: '/v1/'}]\n");
  CHECK(routes.path == "upstreams[0].routes");
  CHECK(routes.error.message == "expected list of path prefix, got \"/v1/\"");
  const auto item = only_error("rules: {trusted_keys: [a, {b: c}]}\n");
  CHECK(item.path == "rules.trusted_keys[1]");
  CHECK(item.error.code == "config.wrong_type");
}

TEST_CASE("null is accepted only where the destination is optional", "[config]") {
  CHECK(load("rules: {file: ~}\n").ok());
  CHECK(load("rules:\n  file:\n").ok());
  auto set = load("rules: {file: /etc/edgeward/rules.blob}\n");
  REQUIRE(set.ok());
  CHECK(set.value().rules.file == std::optional<std::string>("/etc/edgeward/rules.blob"));
  auto quoted_null = load("rules: {file: \"null\"}\n");  // a quoted word is a string
  REQUIRE(quoted_null.ok());
  CHECK(quoted_null.value().rules.file == std::optional<std::string>("null"));
  const auto d = only_error("state_dir:\nmode: enforce\n");
  CHECK(d.error.code == "config.wrong_type");
  CHECK(d.error.message == "expected path, got null");
  CHECK(d.line == 1);  // the key's line, not the next token's
  CHECK(d.column == 1);
}

TEST_CASE("bad values name their own code", "[config]") {
  const auto mode = only_error("mode: block\n");
  CHECK(mode.error.code == "config.bad_value");
  CHECK(mode.error.message == "expected one of `enforce`, `monitor`, got \"block\"");
  CHECK(only_error("log: {format: xml}\n").error.code == "config.bad_value");
  CHECK(only_error("workers: 0\n").error.code == "config.out_of_range");
  CHECK(only_error("workers: 257\n").error.message == "expected `auto` or integer 1–256, got 257");
  CHECK(only_error("workers: 99999999999999999999\n").error.code == "config.out_of_range");
  CHECK(only_error("streaming: {holdback_bytes: -1}\n").error.code == "config.out_of_range");
  CHECK(only_error("limits: {max_header_bytes: 512}\n").error.code == "config.out_of_range");
  CHECK(only_error("limits: {max_request_body: -5MiB}\n").error.code == "bytes.negative");
  CHECK(only_error("limits: {max_request_body: 99999999999TiB}\n").error.code == "bytes.overflow");
  CHECK(only_error("limits: {idle_timeout: 60}\n").error.code == "duration.bad_format");
  CHECK(only_error("limits: {idle_timeout: -1s}\n").error.code == "duration.negative");
  CHECK(only_error("limits: {idle_timeout: ''}\n").error.code == "duration.empty");
  CHECK(only_error("upstreams: [{name: a, url: 'http://x', connect_timeout: 0s}]\n").error.code ==
        "config.out_of_range");
}

TEST_CASE("check functions refuse values with their own code", "[config]") {
  const auto d = only_error("listen: localhost\n");
  CHECK(d.error.code == "config.bad_address");
  CHECK(d.error.message == "bad address \"localhost\": expected HOST:PORT or unix:PATH");
  CHECK(load("admin_listen: unix:/run/edgeward/admin.sock\n").ok());
  const auto route = only_error("upstreams: [{name: a, url: 'http://x', routes: [/v1/, v2]}]\n");
  CHECK(route.path == "upstreams[0].routes[1]");
  CHECK(route.error.code == "config.bad_route");
}

TEST_CASE("required keys, duplicate keys and schema checks are reported", "[config]") {
  const auto missing = only_error("upstreams:\n  - name: a\n");
  CHECK(missing.error.code == "config.missing_key");
  CHECK(missing.path == "upstreams[0].url");
  CHECK(missing.line == 2);
  const auto twice = only_error("listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n");
  CHECK(twice.error.code == "config.duplicate_key");
  CHECK(twice.line == 2);
  const auto reserved = only_error("upstreams: [{name: reserved, url: 'http://x'}]\n");
  CHECK(reserved.error.code == "config.reserved_name");
  CHECK(reserved.path == "upstreams[0].name");
  const auto dup = only_error(
      "upstreams:\n  - {name: a, url: 'http://x'}\n  - {name: b, url: 'http://y'}\n"
      "  - {name: a, url: 'http://z'}\n");
  CHECK(dup.error.code == "config.duplicate_upstream");
  CHECK(dup.path == "upstreams[2]");
  CHECK(dup.line == 4);
}

TEST_CASE("every error in a file is reported, in order, not only the first", "[config]") {
  const std::string yaml =
      "listen: nowhere\n"                    // 1: check
      "workers: lots\n"                      // 2: wrong type
      "mode: enforce\n"                      // 3: fine
      "upstreams:\n"                         // 4
      "  - name: a\n"                        // 5
      "    url: ftp://x\n"                   // 6: check
      "    tls: {verify: maybe}\n"           // 7: wrong type
      "    colour: red\n"                    // 8: unknown key
      "limits:\n"                            // 9
      "  max_request_body: ten\n"            // 10: bad byte size
      "  idle_timeout: 1.5m\n"               // 11: bad duration
      "log: {level: loud, format: json}\n";  // 12: bad value
  auto loaded = load(yaml);
  const auto& d = loaded.diagnostics();
  INFO(loaded.report());
  REQUIRE(d.size() == 8);
  const std::vector<std::pair<int, std::string>> expected = {
      {1, "config.bad_address"},   {2, "config.wrong_type"},  {6, "config.bad_url"},
      {7, "config.wrong_type"},    {8, "config.unknown_key"}, {10, "bytes.bad_format"},
      {11, "duration.bad_format"}, {12, "config.bad_value"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(d[i].line == expected[i].first);
    CHECK(d[i].error.code == expected[i].second);
  }
  CHECK(loaded.report().find("edgeward.yaml:10:21: limits.max_request_body: bad byte size "
                             "\"ten\"") != std::string::npos);
  CHECK(loaded.error().code == "config.invalid");
  CHECK(loaded.error().message == loaded.report());
}

TEST_CASE("broken YAML is one syntax error with its line", "[config]") {
  const auto d = only_error("listen: 127.0.0.1:1\nupstreams: [a, b\nmode: enforce\n");
  CHECK(d.error.code == "config.syntax");
  CHECK(d.line >= 2);
  CHECK(d.column > 0);
  CHECK(d.to_string().rfind("edgeward.yaml:", 0) == 0);
  const auto indent = only_error("listen: a:1\n  mode: enforce\n");
  CHECK(indent.error.code == "config.syntax");
  CHECK(indent.line == 2);
  CHECK(only_error("a: 1\n---\nb: 2\n").error.code == "config.syntax");
  CHECK(only_error("- just\n- a list\n").error.code == "config.wrong_type");
}

TEST_CASE("load_file names the file and reports an unreadable one", "[config]") {
  char path[] = "/tmp/edgeward_config_test_XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream out(path);
    out << "mode: enforce\nlimits:\n  max_request_body: ten\n";
  }
  auto loaded = config::load_file(kDaemon, path);
  REQUIRE(loaded.diagnostics().size() == 1);
  CHECK(loaded.diagnostics()[0].to_string().rfind(std::string(path) + ":3:21: ", 0) == 0);
  ::unlink(path);
  auto missing = config::load_file(kDaemon, "/nonexistent/edgeward.yaml");
  REQUIRE(missing.diagnostics().size() == 1);
  CHECK(missing.diagnostics()[0].error.code == "config.unreadable");
  CHECK(missing.diagnostics()[0].to_string() ==
        "/nonexistent/edgeward.yaml: cannot read: No such file or directory (config.unreadable)");
}

TEST_CASE("set_from_text applies a flag with the same validation as the file", "[config]") {
  auto loaded = config::defaults(kDaemon);
  REQUIRE(loaded.ok());
  DaemonConfig& c = loaded.value();
  CHECK(config::set_from_text(kDaemon, c, "listen", "0.0.0.0:9000", "--listen").empty());
  CHECK(c.listen == "0.0.0.0:9000");
  CHECK(config::set_from_text(kDaemon, c, "limits.idle_timeout", "5m", "--idle").empty());
  CHECK(c.limits.idle_timeout == milliseconds{300'000});
  auto bad = config::set_from_text(kDaemon, c, "listen", "nowhere", "--listen");
  REQUIRE(bad.size() == 1);
  CHECK(bad[0].to_string() ==
        "--listen: listen: bad address \"nowhere\": expected HOST:PORT or unix:PATH "
        "(config.bad_address)");
  CHECK(config::set_from_text(kDaemon, c, "nope", "1", "--x")[0].error.code ==
        "config.unknown_key");
  CHECK(config::set_from_text(kDaemon, c, "limits", "1", "--x")[0].error.code ==
        "config.wrong_type");
  CHECK(config::set_from_text(kDaemon, c, "listen.x", "1", "--x")[0].error.code ==
        "config.wrong_type");
}

TEST_CASE("to_yaml writes the effective config, which loads back to the same values", "[config]") {
  auto first = load(std::string(kDesignExample));
  REQUIRE(first.ok());
  first.value().upstreams[0].tls.ca_file = "/etc/ssl/my ca.pem";
  first.value().rules.trusted_keys = {"key1", "key: 2"};
  const std::string yaml = config::to_yaml(kDaemon, first.value());
  INFO(yaml);
  CHECK(yaml.find("workers: auto\n") != std::string::npos);
  CHECK(yaml.find("  max_request_body: 8MiB\n") != std::string::npos);
  CHECK(yaml.find("  - name: openai\n    url: https://api.openai.com\n") != std::string::npos);
  CHECK(yaml.find("    response_timeout: 10m\n") != std::string::npos);
  CHECK(yaml.find("  file: null\n") != std::string::npos);
  auto second = load(yaml);
  INFO(second.report());
  REQUIRE(second.ok());
  CHECK(config::to_yaml(kDaemon, second.value()) == yaml);
  CHECK(second.value().upstreams[0].tls.ca_file ==
        std::optional<std::string>("/etc/ssl/my ca.pem"));
  CHECK(second.value().rules.trusted_keys == std::vector<std::string>{"key1", "key: 2"});
}

TEST_CASE("render_markdown lists every key with its type, default and description", "[config]") {
  const std::string md = config::render_markdown(kDaemon);
  INFO(md);
  CHECK(md.rfind("| key | type | default | description |\n|---|---|---|---|\n", 0) == 0);
  CHECK(md.find("| `listen` | address | `127.0.0.1:9087` | Where applications connect. |\n") !=
        std::string::npos);
  CHECK(md.find("| `workers` | `auto` or integer 1–256 | `auto` | Event-loop threads. |\n") !=
        std::string::npos);
  CHECK(md.find("| `upstreams[].name` | string | required | Name in events and logs. |\n") !=
        std::string::npos);
  CHECK(md.find("| `upstreams[].tls.verify` | bool | `true` |") != std::string::npos);
  CHECK(md.find("| `upstreams[].tls.ca_file` | path or null | `null` |") != std::string::npos);
  CHECK(md.find("| `limits.max_request_body` | byte size | `8MiB` |") != std::string::npos);
  CHECK(md.find("| `limits.max_header_bytes` | byte size 1KiB–1MiB | `64KiB` |") !=
        std::string::npos);
  CHECK(md.find("| `upstreams[].connect_timeout` | duration ≥ 1ms | `5s` |") != std::string::npos);
  CHECK(md.find("| `mode` | one of `enforce`, `monitor` | `enforce` |") != std::string::npos);
  CHECK(md.find("| `rules.trusted_keys` | list of public key | `[]` |") != std::string::npos);
  CHECK(md.find("Text held back for redaction \\| per stream.") != std::string::npos);
  CHECK(md.find("| `limits` | object |  | Limits. |\n") != std::string::npos);
}

namespace {
struct Broken {
  int n = 0;
  std::string s;
};
const config::Schema<Broken> kBroken{
    {"n", config::Int{.min = 1, .max = 10}, "20", &Broken::n, "A default out of its own range."},
    {"s", config::String{}, "[not, a, string]", &Broken::s, "A default of the wrong type."},
};
}  // namespace

TEST_CASE("defaults() reports a schema whose defaults do not pass its own rules", "[config]") {
  auto d = config::defaults(kBroken);
  REQUIRE(d.diagnostics().size() == 2);
  CHECK(d.diagnostics()[0].error.code == "config.bad_default");
  CHECK(d.diagnostics()[0].path == "n");
  CHECK(d.diagnostics()[1].path == "s");
  CHECK(config::defaults(kDaemon).ok());
}
