// TLS upstreams through the real edgewardd (issue 4 point 5): the mock upstream serves
// certificates from a test PKI made at test time (tests/tools/make-test-ca.sh); verification
// on succeeds against `tls.ca_file`, and a wrong host name or an unknown CA is refused with 502
// in the DESIGN §2 error shape, while the gateway keeps serving.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <thread>

#include "tests/integration/harness.hpp"

using namespace edgeward::testing;
using namespace std::chrono_literals;

namespace {

// A TLS mock upstream on a free loopback port, serving `cert` (a name in the test PKI).
struct TlsMock {
  TlsMock(const TempDir& dir, const std::string& pki, const std::string& cert) {
    const std::string port_file = dir.file(cert + ".port");
    process = std::make_unique<Process>(
        std::vector<std::string>{EDGEWARD_MOCK_PATH, "--listen", "127.0.0.1:0", "--tls-cert",
                                 pki + "/" + cert + ".pem", "--tls-key", pki + "/" + cert + ".key",
                                 "--port-file", port_file},
        dir.file(cert + ".log"));
    for (int i = 0; i < 400 && port == 0 && process->running(); ++i) {
      port = static_cast<std::uint16_t>(std::atoi(slurp(port_file).c_str()));
      if (port == 0) std::this_thread::sleep_for(25ms);
    }
  }
  std::unique_ptr<Process> process;
  std::uint16_t port = 0;
};

// edgewardd with four TLS upstreams, each routed by a path the mock serves:
//   /sized    https://localhost (server.pem, SAN localhost), ca_file = the test CA  → works
//   /echo     https://localhost (wrong-host.pem, SAN wrong.example), same CA       → refused
//   /status/  https://localhost (untrusted.pem, signed by another CA), same CA     → refused
//   /chunked  https://localhost (server.pem), no ca_file: the system store does not know
//             the test CA                                                          → refused
class TlsGateway {
 public:
  TlsGateway() {
    pki = dir.file("pki");
    if (std::system(("bash " EDGEWARD_TEST_CA_SCRIPT " " + pki + " >/dev/null 2>&1").c_str()) !=
        0) {
      return;
    }
    good = std::make_unique<TlsMock>(dir, pki, "server");
    wrong_host = std::make_unique<TlsMock>(dir, pki, "wrong-host");
    untrusted = std::make_unique<TlsMock>(dir, pki, "untrusted");
    if (good->port == 0 || wrong_host->port == 0 || untrusted->port == 0) return;
    auto upstream = [&](const std::string& name, std::uint16_t p, const std::string& route,
                        bool with_ca) {
      return "  - name: " + name + "\n    url: https://localhost:" + std::to_string(p) +
             "\n    routes: [\"" + route + "\"]\n    tls: { verify: true" +
             (with_ca ? ", ca_file: " + pki + "/ca.pem" : std::string()) + " }\n";
    };
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
      port = free_port();
      admin_port = free_port();
      const std::string config = dir.file("edgeward.yaml");
      std::ofstream(config) << "listen: 127.0.0.1:" << port << "\n"
                            << "admin_listen: 127.0.0.1:" << admin_port << "\n"
                            << "workers: 2\n"
                            << "state_dir: " << dir.path << "\n"
                            << "upstreams:\n"
                            << upstream("good", good->port, "/sized", true)
                            << upstream("wronghost", wrong_host->port, "/echo", true)
                            << upstream("unknownca", untrusted->port, "/status/", true)
                            << upstream("systemstore", good->port, "/chunked", false);
      edgewardd_ = std::make_unique<Process>(
          std::vector<std::string>{EDGEWARDD_PATH, "--config", config}, dir.file("edgewardd.log"));
      ready_ = wait_ready(admin_port, "/healthz", *edgewardd_, 30s) &&
               wait_ready(admin_port, "/readyz", *edgewardd_, 120s);
    }
  }
  bool ready() const { return ready_; }
  Process& edgewardd() { return *edgewardd_; }

  TempDir dir;
  std::string pki;
  std::unique_ptr<TlsMock> good, wrong_host, untrusted;
  std::uint16_t port = 0, admin_port = 0;

 private:
  std::unique_ptr<Process> edgewardd_;
  bool ready_ = false;
};

void check_tls_refusal(const std::string& response) {
  REQUIRE(status_of(response) == 502);
  const std::string b = body_of(response);
  CHECK(json_string_field(b, "type") == "edgeward_upstream_error");
  CHECK(json_string_field(b, "code") == "tls.verify_failed");
  CHECK(b.find("\"param\":null") != std::string::npos);
}

}  // namespace

TEST_CASE("a TLS upstream verified against tls.ca_file serves through the gateway",
          "[integration][tls]") {
  TlsGateway g;
  REQUIRE(g.ready());
  // Twice on one client connection: the second exchange reuses the pooled TLS connection.
  ClientSocket c(g.port);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(c.send("GET /sized?bytes=5000 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string r = c.read_response(10s);
    REQUIRE(status_of(r) == 200);
    std::string want(5000, 'a');
    for (std::size_t k = 0; k < want.size(); ++k) want[k] = static_cast<char>('a' + k % 26);
    CHECK(body_of(r) == want);
  }
}

TEST_CASE("a TLS upstream whose certificate names another host is refused with 502",
          "[integration][tls]") {
  TlsGateway g;
  REQUIRE(g.ready());
  check_tls_refusal(http_once(g.port, "POST", "/echo", "{}"));
  CHECK(status_of(http_once(g.port, "GET", "/sized?bytes=10")) == 200);
  CHECK(g.edgewardd().running());
}

TEST_CASE("a TLS upstream with a certificate from an unknown CA is refused with 502",
          "[integration][tls]") {
  TlsGateway g;
  REQUIRE(g.ready());
  // Signed by a CA other than tls.ca_file's.
  check_tls_refusal(http_once(g.port, "GET", "/status/200"));
  // Signed by the test CA, which the system store does not hold (no tls.ca_file).
  check_tls_refusal(http_once(g.port, "GET", "/chunked"));
  CHECK(status_of(http_once(g.port, "GET", "/sized?bytes=10")) == 200);
  CHECK(g.edgewardd().running());
}
