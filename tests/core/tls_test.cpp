// TlsSession driven in memory: a client and a server session exchanging their output buffers,
// no sockets. Certificates come from tests/tools/make-test-ca.sh, run once per binary.
#include "core/net/tls.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace edgeward;
using edgeward::tls::TlsContext;
using edgeward::tls::TlsSession;

namespace {

const std::string& pki() {
  // Removed at exit, so test runs leave nothing in /tmp.
  struct Dir {
    std::string path;
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir{[] {
    std::string d = (std::filesystem::temp_directory_path() /
                     ("edgeward-tls-unit-" + std::to_string(::getpid())))
                        .string();
    REQUIRE(std::system(("tests/tools/make-test-ca.sh " + d).c_str()) == 0);
    return d;
  }()};
  return dir.path;
}

std::shared_ptr<TlsContext> server_ctx(const std::string& name) {
  auto ctx = TlsContext::server(pki() + "/" + name + ".pem", pki() + "/" + name + ".key");
  REQUIRE(ctx.ok());
  return ctx.value();
}

std::shared_ptr<TlsContext> client_ctx(bool verify = true) {
  auto ctx = TlsContext::client(verify, pki() + "/ca.pem");
  REQUIRE(ctx.ok());
  return ctx.value();
}

// Moves output between the two sessions until neither has anything to say. Returns the
// client's handshake result (or its error).
Result<bool> pump(TlsSession& client, TlsSession& server) {
  Result<bool> client_state = false;
  for (int round = 0; round < 20; ++round) {
    client_state = client.handshake();
    if (!client_state) return client_state;
    std::string c2s;
    client.take_output(c2s);
    server.feed_input(c2s);
    auto server_state = server.handshake();
    std::string s2c;
    server.take_output(s2c);
    client.feed_input(s2c);
    if (client_state.value() && server_state.ok() && server_state.value() && s2c.empty() &&
        c2s.empty()) {
      break;
    }
  }
  return client.handshake();
}

}  // namespace

TEST_CASE("TLS handshake against the test CA succeeds and carries data both ways", "[tls]") {
  auto client = TlsSession::client(client_ctx(), "localhost");
  auto server = TlsSession::server(server_ctx("server"));
  REQUIRE(client.ok());
  REQUIRE(server.ok());
  auto hs = pump(**client, **server);
  REQUIRE(hs.ok());
  CHECK(hs.value());
  CHECK((*client)->established());

  REQUIRE((*client)->write_plaintext("GET / HTTP/1.1\r\n\r\n").ok());
  std::string wire;
  (*client)->take_output(wire);
  CHECK(wire.find("GET") == std::string::npos);  // encrypted on the wire
  (*server)->feed_input(wire);
  (void)(*server)->handshake();
  char buf[256];
  auto got = (*server)->read_plaintext(buf, sizeof(buf));
  REQUIRE(got.ok());
  CHECK(std::string(buf, got.value()) == "GET / HTTP/1.1\r\n\r\n");

  REQUIRE((*server)->write_plaintext("HTTP/1.1 200 OK\r\n\r\n").ok());
  wire.clear();
  (*server)->take_output(wire);
  (*client)->feed_input(wire);
  std::string plain;
  for (;;) {
    auto r = (*client)->read_plaintext(buf, sizeof(buf));
    REQUIRE(r.ok());
    if (r.value() == 0) break;
    plain.append(buf, r.value());
  }
  CHECK(plain == "HTTP/1.1 200 OK\r\n\r\n");
}

TEST_CASE("TLS verification accepts an IP literal listed in the certificate", "[tls]") {
  auto client = TlsSession::client(client_ctx(), "127.0.0.1");
  auto server = TlsSession::server(server_ctx("server"));
  auto hs = pump(**client, **server);
  REQUIRE(hs.ok());
  CHECK(hs.value());
}

TEST_CASE("TLS verification refuses a certificate for another host name", "[tls]") {
  auto client = TlsSession::client(client_ctx(), "localhost");
  auto server = TlsSession::server(server_ctx("wrong-host"));
  auto hs = pump(**client, **server);
  REQUIRE_FALSE(hs.ok());
  CHECK(hs.error().code == "tls.verify_failed");
  CHECK(hs.error().message == "certificate verification failed: hostname mismatch");
}

TEST_CASE("TLS verification refuses a certificate from an unknown CA", "[tls]") {
  auto client = TlsSession::client(client_ctx(), "localhost");
  auto server = TlsSession::server(server_ctx("untrusted"));
  auto hs = pump(**client, **server);
  REQUIRE_FALSE(hs.ok());
  CHECK(hs.error().code == "tls.verify_failed");
  CHECK(hs.error().message ==
        "certificate verification failed: unable to get local issuer certificate");
}

TEST_CASE("TLS with verification off accepts an unknown CA and a wrong name", "[tls]") {
  auto client = TlsSession::client(client_ctx(false), "localhost");
  auto server = TlsSession::server(server_ctx("untrusted"));
  auto hs = pump(**client, **server);
  REQUIRE(hs.ok());
  CHECK(hs.value());
}

TEST_CASE("TLS handshake with a peer that is not speaking TLS fails cleanly", "[tls]") {
  auto client = TlsSession::client(client_ctx(), "localhost");
  REQUIRE(client.ok());
  REQUIRE((*client)->handshake().ok());
  (*client)->feed_input("HTTP/1.1 400 Bad Request\r\n\r\n");
  auto hs = (*client)->handshake();
  REQUIRE_FALSE(hs.ok());
  CHECK(hs.error().code == "tls.handshake_failed");
  CHECK(hs.error().message.find("HTTP/1.1") == std::string::npos);  // never the peer's bytes
}

TEST_CASE("TLS close_notify from the peer reads as tls.closed", "[tls]") {
  auto client = TlsSession::client(client_ctx(), "localhost");
  auto server = TlsSession::server(server_ctx("server"));
  REQUIRE(pump(**client, **server).ok());
  (*server)->shutdown();
  std::string wire;
  (*server)->take_output(wire);
  (*client)->feed_input(wire);
  char buf[64];
  auto r = (*client)->read_plaintext(buf, sizeof(buf));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "tls.closed");
}

TEST_CASE("TLS contexts report bad files with their own codes", "[tls]") {
  CHECK(TlsContext::client(true, "/nonexistent/ca.pem").error().code == "tls.bad_ca_file");
  CHECK(TlsContext::server("/nonexistent/cert.pem", pki() + "/server.key").error().code ==
        "tls.bad_certificate");
  CHECK(TlsContext::server(pki() + "/server.pem", "/nonexistent/key.pem").error().code ==
        "tls.bad_key");
  CHECK(TlsContext::server(pki() + "/server.pem", pki() + "/wrong-host.key").error().code ==
        "tls.bad_key");
}

TEST_CASE("TLS client contexts load the system store when no CA file is given", "[tls]") {
  auto ctx = TlsContext::client(true, "");
  REQUIRE(ctx.ok());
  CHECK((*ctx)->verify());
}

TEST_CASE("TLS client sessions resume the last session for the same server name", "[tls]") {
  auto cctx = client_ctx();
  auto sctx = server_ctx("server");
  auto first = TlsSession::client(cctx, "localhost");
  auto server1 = TlsSession::server(sctx);
  REQUIRE(pump(**first, **server1).ok());
  CHECK_FALSE((*first)->resumed());
  // TLS 1.3 tickets come after the handshake; reading processes them.
  char buf[64];
  REQUIRE((*first)->read_plaintext(buf, sizeof(buf)).ok());

  auto second = TlsSession::client(cctx, "localhost");
  auto server2 = TlsSession::server(sctx);
  auto hs = pump(**second, **server2);
  REQUIRE(hs.ok());
  CHECK(hs.value());
  CHECK((*second)->resumed());

  auto other = TlsSession::client(cctx, "127.0.0.1");  // another name: a full handshake
  auto server3 = TlsSession::server(sctx);
  REQUIRE(pump(**other, **server3).ok());
  CHECK_FALSE((*other)->resumed());
}
