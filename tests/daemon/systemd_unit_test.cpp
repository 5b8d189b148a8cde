// systemd/edgeward.service: verified by systemd-analyze (DESIGN §7).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string run(const std::string& cmd, int* exit_code) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  std::string out;
  if (p == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *exit_code = WEXITSTATUS(::pclose(p));
  return out;
}

bool have_systemd_analyze() {
  int rc = 0;
  run("command -v systemd-analyze", &rc);
  return rc == 0;
}

// The unit with ExecStart pointing at the binary just built (verify checks it exists), in a
// temporary directory named like the installed unit.
class UnitCopy {
 public:
  UnitCopy() {
    char tmpl[] = "/tmp/edgeward-unit-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    std::ifstream in(std::string(EDGEWARD_SOURCE_DIR) + "/systemd/edgeward.service");
    std::stringstream ss;
    ss << in.rdbuf();
    // No <regex>: GCC 12 under -fsanitize=address warns inside it (-Wmaybe-uninitialized).
    std::string unit = ss.str();
    const std::string from = "/usr/bin/edgewardd";
    for (auto p = unit.find(from); p != std::string::npos; p = unit.find(from, p + 1)) {
      unit.replace(p, from.size(), EDGEWARDD_PATH);
    }
    path = dir + "/edgeward.service";
    std::ofstream(path) << unit;
  }
  ~UnitCopy() {
    std::remove(path.c_str());
    ::rmdir(dir.c_str());
  }
  std::string dir, path;
};

}  // namespace

TEST_CASE("systemd unit passes systemd-analyze verify", "[systemd]") {
  if (!have_systemd_analyze()) {
    WARN("systemd-analyze not found: skipping the unit verification");
    return;
  }
  UnitCopy unit;
  int rc = 0;
  std::string out = run("systemd-analyze verify " + unit.path, &rc);
  INFO(out);
  CHECK(rc == 0);
}

TEST_CASE("systemd unit has a security exposure of 2.0 or lower", "[systemd]") {
  if (!have_systemd_analyze()) {
    WARN("systemd-analyze not found: skipping the security score");
    return;
  }
  UnitCopy unit;
  int rc = 0;
  std::string out = run("systemd-analyze security --offline=true " + unit.path, &rc);
  INFO(out);
  const std::string marker = "Overall exposure level for ";
  auto p = out.find(marker);
  REQUIRE(p != std::string::npos);
  p = out.find(": ", p + marker.size());
  REQUIRE(p != std::string::npos);
  CHECK(std::stod(out.substr(p + 2)) <= 2.0);
}

TEST_CASE("systemd unit declares the DESIGN §7 settings", "[systemd]") {
  std::ifstream in(std::string(EDGEWARD_SOURCE_DIR) + "/systemd/edgeward.service");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string unit = ss.str();
  for (const char* line :
       {"Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=edgeward",
        "ConfigurationDirectory=edgeward", "RuntimeDirectory=edgeward", "ProtectSystem=strict",
        "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes", "ExecReload=/bin/kill -HUP $MAINPID"}) {
    INFO(line);
    CHECK(unit.find(line) != std::string::npos);
  }
}
