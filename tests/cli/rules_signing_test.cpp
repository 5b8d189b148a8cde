// `edgeward rules keygen|sign|verify` through the built binary: file modes, exit codes, refusal
// codes on stderr, and a sign → verify round trip.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "rules/blob.hpp"
#include "rules/keys.hpp"
#include "tests/cli/run_process.hpp"
#include "tests/cli/temp_dir.hpp"

using edgeward::testing::run_edgeward;
using edgeward::testing::spit;
using edgeward::testing::TempDir;

namespace {

constexpr const char* kPack = R"(apiVersion: edgeward/v1
kind: RulePack
name: cli-test
rules:
  - id: 5d0c9f62-3c1e-4a53-9f0e-2b7d8a41c6e5
    name: IBAN
    reason_code: DLP.PII.IBAN
    detect:
      patterns: ['\b[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}\b']
      validator: iban
    examples:
      match: ['wire it to DE89 3704 0044 0532 0130 00 please']
      no_match: ['wire it to DE89 3704 0044 0532 0130 01 please']
)";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

struct SigningFixture {
  TempDir dir;
  std::string key = dir.file("signing.key");
  std::string pack = dir.file("pack.yaml");
  std::string blob = dir.file("rules.blob");

  SigningFixture() {
    spit(pack, kPack);
    auto r = run_edgeward({"rules", "keygen", "--out", key});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  void sign(const std::string& version, const std::string& tenant) {
    auto r = run_edgeward({"rules", "sign", pack, "--key", key, "--version", version, "--tenant",
                           tenant, "--expires", "30d", "-o", blob});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
};

}  // namespace

TEST_CASE_METHOD(SigningFixture, "rules keygen writes a 0600 secret key and a public key",
                 "[cli][rules]") {
  CHECK(mode_of(key) == 0600);
  CHECK(::access((key + ".pub").c_str(), R_OK) == 0);
  CHECK(slurp(key).rfind("# edgeward ed25519 secret key v1 keyid=", 0) == 0);
  CHECK(slurp(key + ".pub").rfind("# edgeward ed25519 public key v1 keyid=", 0) == 0);
}

TEST_CASE_METHOD(SigningFixture, "rules keygen refuses to overwrite a key without --force",
                 "[cli][rules]") {
  const std::string before = slurp(key);
  auto again = run_edgeward({"rules", "keygen", "--out", key});
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("keys.exists") != std::string::npos);
  CHECK(slurp(key) == before);

  auto forced = run_edgeward({"rules", "keygen", "--out", key, "--force"});
  CHECK(forced.exit_code == 0);
  CHECK(slurp(key) != before);
  CHECK(mode_of(key) == 0600);
}

TEST_CASE_METHOD(SigningFixture, "a blob signed by rules sign passes rules verify",
                 "[cli][rules]") {
  sign("42", "acme");
  auto r = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub", "--tenant", "acme"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("version:    42") != std::string::npos);
  CHECK(r.out.find("tenant:     acme") != std::string::npos);
  CHECK(r.out.find("expires_at: ") != std::string::npos);
  CHECK(r.out.find("keyid:      ") != std::string::npos);

  auto j = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub", "--json"});
  CHECK(j.exit_code == 0);
  CHECK(j.out.find(R"("valid":true,"version":42,"tenant_id":"acme")") != std::string::npos);
}

TEST_CASE_METHOD(SigningFixture, "rules verify refuses another tenant with exit 1",
                 "[cli][rules]") {
  sign("7", "acme");
  auto r = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub", "--tenant", "other"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("blob.wrong_tenant", 0) == 0);
}

TEST_CASE_METHOD(SigningFixture, "rules verify refuses a blob signed by another key",
                 "[cli][rules]") {
  sign("7", "acme");
  const std::string other = dir.file("other.key");
  REQUIRE(run_edgeward({"rules", "keygen", "--out", other}).exit_code == 0);
  auto r = run_edgeward({"rules", "verify", blob, "--pubkey", other + ".pub"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("blob.unknown_key", 0) == 0);
}

TEST_CASE_METHOD(SigningFixture, "rules verify refuses a tampered blob as blob.bad_signature",
                 "[cli][rules]") {
  sign("7", "acme");
  std::string text = slurp(blob);
  // Flip one base64 character inside the payload (keeps it valid base64).
  const auto pos = text.find("\"payload\":\"") + 11 + 40;
  text[pos] = text[pos] == 'A' ? 'B' : 'A';
  spit(blob, text);
  auto r = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("blob.bad_signature", 0) == 0);
}

TEST_CASE_METHOD(SigningFixture, "rules sign refuses a pack that does not load", "[cli][rules]") {
  spit(pack, "apiVersion: edgeward/v1\nkind: RulePack\nname: broken\nrules: []\n");
  auto r = run_edgeward(
      {"rules", "sign", pack, "--key", key, "--version", "1", "--tenant", "t", "-o", blob});
  CHECK(r.exit_code == 2);
  CHECK(::access(blob.c_str(), F_OK) != 0);
}

TEST_CASE_METHOD(SigningFixture, "rules sign and verify report usage and I/O errors with exit 2",
                 "[cli][rules]") {
  CHECK(
      run_edgeward({"rules", "sign", pack, "--key", key, "--tenant", "t", "-o", blob}).exit_code ==
      2);  // no --version
  CHECK(run_edgeward(
            {"rules", "sign", pack, "--key", key, "--version", "0", "--tenant", "t", "-o", blob})
            .exit_code == 2);
  CHECK(run_edgeward({"rules", "sign", pack, "--key", key, "--version", "1", "--tenant", "t",
                      "--expires", "soon", "-o", blob})
            .exit_code == 2);
  CHECK(run_edgeward({"rules", "sign", pack, "--key", dir.file("missing.key"), "--version", "1",
                      "--tenant", "t", "-o", blob})
            .exit_code == 2);
  CHECK(run_edgeward({"rules", "verify", dir.file("missing.blob"), "--pubkey", key + ".pub"})
            .exit_code == 2);
  CHECK(run_edgeward({"rules", "verify", blob}).exit_code == 2);  // no --pubkey
}

TEST_CASE_METHOD(SigningFixture, "a blob signed by two keys meets a verify threshold of two",
                 "[cli][rules]") {
  const std::string second = dir.file("second.key");
  REQUIRE(run_edgeward({"rules", "keygen", "--out", second}).exit_code == 0);
  auto one = run_edgeward(
      {"rules", "sign", pack, "--key", key, "--version", "3", "--tenant", "t", "-o", blob});
  REQUIRE(one.exit_code == 0);
  auto short_of_two = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub", "--pubkey",
                                    second + ".pub", "--threshold", "2"});
  CHECK(short_of_two.exit_code == 1);
  CHECK(short_of_two.err.rfind("blob.threshold_not_met", 0) == 0);

  auto two = run_edgeward({"rules", "sign", pack, "--key", key, "--key", second, "--version", "3",
                           "--tenant", "t", "-o", blob});
  REQUIRE(two.exit_code == 0);
  auto ok = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub", "--pubkey",
                          second + ".pub", "--threshold", "2"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
}

TEST_CASE_METHOD(SigningFixture, "a blob whose expiry has passed is refused as blob.expired",
                 "[cli][rules]") {
  // The shortest expiry is one millisecond; by the time verify runs it has passed.
  auto r = run_edgeward({"rules", "sign", pack, "--key", key, "--version", "3", "--tenant", "t",
                         "--expires", "1ms", "-o", blob});
  REQUIRE(r.exit_code == 0);
  auto v = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub"});
  CHECK(v.exit_code == 1);
  CHECK(v.err.rfind("blob.expired", 0) == 0);
}

TEST_CASE_METHOD(SigningFixture, "rules verify refuses a signed blob whose pack does not load",
                 "[cli][rules]") {
  // `rules sign` never signs such a pack, so the blob is made with the library and the same key.
  auto secret = edgeward::rules::read_secret_key_file(key);
  REQUIRE(secret.ok());
  edgeward::rules::BlobPayload payload;
  payload.tenant_id = "t";
  payload.version = 9;
  payload.created_at = edgeward::timefmt::now();
  payload.expires_at = payload.created_at + std::chrono::hours(1);
  payload.pack_json = R"({"apiVersion":"edgeward/v1","kind":"RulePack","name":"x","rules":[]})";
  spit(blob, edgeward::rules::sign_blob(payload, {&secret.value()}));
  auto r = run_edgeward({"rules", "verify", blob, "--pubkey", key + ".pub"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("blob.bad_pack", 0) == 0);
}
