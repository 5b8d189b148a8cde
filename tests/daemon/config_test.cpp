#include "daemon/config.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace edgeward;
using namespace edgeward::daemon;

namespace {

// A config file in a temporary directory, removed at the end of the test.
class TempConfig {
 public:
  explicit TempConfig(const std::string& yaml) {
    char tmpl[] = "/tmp/edgeward-config-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path = tmpl;
    REQUIRE(::write(fd, yaml.data(), yaml.size()) == static_cast<ssize_t>(yaml.size()));
    ::close(fd);
  }
  ~TempConfig() { std::remove(path.c_str()); }
  std::string path;
};

std::string all_messages(const std::vector<config::Diagnostic>& d) {
  std::string out;
  for (const auto& x : d) out += x.to_string() + "\n";
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the upstream flag alone gives a working config with one catch-all upstream",
          "[config]") {
  Config c;
  ConfigOverrides o;
  o.upstream = "https://api.openai.com";
  auto d = load_config("", o, c);
  INFO(all_messages(d));
  REQUIRE(d.empty());
  REQUIRE(c.upstreams.size() == 1);
  CHECK(c.upstreams[0].url == "https://api.openai.com");
  CHECK(c.upstreams[0].routes == std::vector<std::string>{"/"});
  CHECK(c.listen == "127.0.0.1:9087");
  CHECK(c.admin_listen == "127.0.0.1:9088");
  CHECK(c.limits.max_request_body == 8u << 20);
  CHECK(c.limits.header_timeout == std::chrono::seconds(10));
}

TEST_CASE("a config without any upstream is refused with config.no_upstream", "[config]") {
  Config c;
  auto d = load_config("", {}, c);
  REQUIRE(d.size() == 1);
  CHECK(d[0].error.code == "config.no_upstream");
}

TEST_CASE("config loading reports every error with file, line and key", "[config]") {
  TempConfig f(
      "listen: 127.0.0.1:9087\n"
      "workers: many\n"
      "upstreams:\n"
      "  - name: openai\n"
      "    url: ftp://x\n"
      "limits: { max_request_body: ten }\n"
      "bogus: 1\n");
  Config c;
  auto d = load_config(f.path, {}, c);
  std::string report = all_messages(d);
  INFO(report);
  CHECK(d.size() >= 4);
  CHECK(report.find(f.path + ":2:") != std::string::npos);
  CHECK(report.find("workers") != std::string::npos);
  CHECK(report.find("upstreams[0].url") != std::string::npos);
  CHECK(report.find("limits.max_request_body") != std::string::npos);
  CHECK(report.find("config.unknown_key") != std::string::npos);
}

TEST_CASE("upstream header lines are parsed and a bad one never echoes its value", "[config]") {
  TempConfig good(
      "upstreams:\n"
      "  - name: openai\n"
      "    url: https://api.openai.com\n"
      "    headers: ['Authorization: Bearer sk-canary-123', 'X-Org:  acme ']\n");
  Config c;
  auto d = load_config(good.path, {}, c);
  INFO(all_messages(d));
  REQUIRE(d.empty());
  CHECK(c.upstreams[0].headers.get("Authorization") == "Bearer sk-canary-123");
  CHECK(c.upstreams[0].headers.get("X-Org") == "acme");

  TempConfig bad(
      "upstreams:\n"
      "  - name: openai\n"
      "    url: https://api.openai.com\n"
      "    headers: ['Bad Name sk-canary-456']\n");
  Config c2;
  auto d2 = load_config(bad.path, {}, c2);
  REQUIRE(d2.size() == 1);
  CHECK(d2[0].error.code == "config.bad_header");
  CHECK(all_messages(d2).find("sk-canary-456") == std::string::npos);
}

TEST_CASE("a provider key or URL password in a malformed field never appears in the error",
          "[config]") {
  // `headers` written as one string instead of a list, and a URL with a password that fails
  // its check (a path after the host).
  TempConfig f(
      "upstreams:\n"
      "  - name: a\n"
      "    url: 'http://127.0.0.1:1'\n"
      "    headers: 'Authorization: Bearer sk-canary-scalar-789'\n"
      "  - name: b\n"
      "    url: 'https://user:sk-canary-urlpass-321@api.example.com/v1'\n"
      "    headers: [['Authorization: Bearer sk-canary-nested-654']]\n");
  Config c;
  auto d = load_config(f.path, {}, c);
  REQUIRE(d.size() == 3);
  const std::string all = all_messages(d);
  CHECK(all.find("sk-canary") == std::string::npos);
  CHECK(all.find("value not shown") != std::string::npos);
  CHECK(d[0].error.code == "config.wrong_type");
}

TEST_CASE("a CA file that is missing or not PEM is refused when the config loads", "[config]") {
  TempConfig not_pem("not a certificate\n");
  for (const std::string& ca : {std::string("/nonexistent/ca.pem"), not_pem.path}) {
    TempConfig f(
        "upstreams:\n"
        "  - name: a\n"
        "    url: 'https://127.0.0.1:1'\n"
        "    tls: {ca_file: '" +
        ca + "'}\n");
    Config c;
    auto d = load_config(f.path, {}, c);
    INFO(ca << ": " << all_messages(d));
    REQUIRE(d.size() == 1);
    CHECK(d[0].error.code == "config.bad_ca_file");
  }
}

TEST_CASE("duplicate upstream names are refused", "[config]") {
  TempConfig f(
      "upstreams:\n"
      "  - { name: a, url: 'http://127.0.0.1:1' }\n"
      "  - { name: a, url: 'http://127.0.0.1:2' }\n");
  Config c;
  auto d = load_config(f.path, {}, c);
  REQUIRE(d.size() == 1);
  CHECK(d[0].error.code == "config.duplicate_upstream");
}

TEST_CASE("flags override the file", "[config]") {
  TempConfig f(
      "listen: 127.0.0.1:1000\n"
      "upstreams:\n"
      "  - { name: a, url: 'http://127.0.0.1:1' }\n");
  Config c;
  ConfigOverrides o;
  o.listen = "127.0.0.1:2000";
  o.state_dir = "/tmp/ew-state";
  auto d = load_config(f.path, o, c);
  REQUIRE(d.empty());
  CHECK(c.listen == "127.0.0.1:2000");
  CHECK(c.state_dir == "/tmp/ew-state");
  ConfigOverrides bad;
  bad.listen = "nowhere";
  CHECK_FALSE(load_config(f.path, bad, c).empty());
}

TEST_CASE("docs/configuration.md carries the schema's key table", "[config][docs]") {
  const std::string docs = read_file(std::string(EDGEWARD_SOURCE_DIR) + "/docs/configuration.md");
  const std::string table = config::render_markdown(config_schema());
  INFO("regenerate with: edgewardd --print-config-reference (table below)\n" << table);
  CHECK(docs.find(table) != std::string::npos);
}

TEST_CASE("edgewardd --check-config prints every error and exits 1", "[config][binary]") {
  TempConfig f(
      "workers: many\n"
      "upstreams:\n"
      "  - name: openai\n"
      "    url: ftp://x\n");
  std::string cmd = std::string(EDGEWARDD_PATH) + " --check-config --config " + f.path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  INFO(out);
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(out.find("workers") != std::string::npos);
  CHECK(out.find("upstreams[0].url") != std::string::npos);
}

TEST_CASE("edgewardd --check-config accepts a valid file and exits 0", "[config][binary]") {
  TempConfig f("upstreams:\n  - { name: a, url: 'http://127.0.0.1:1' }\n");
  std::string cmd = std::string(EDGEWARDD_PATH) + " --check-config --config " + f.path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  CHECK(WEXITSTATUS(::pclose(p)) == 0);
  CHECK(out.find("config OK") != std::string::npos);
}
