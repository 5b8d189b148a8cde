// Rule-signing keys: key ids, key file format and modes, refusal to overwrite.

#include "rules/keys.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace edgeward;
using namespace edgeward::rules;

namespace {

// A fresh private directory under TMPDIR, removed with its files at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/ew-keys-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    const std::string cmd = "rm -rf '" + path + "'";
    if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", path.c_str());
  }
};

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

}  // namespace

TEST_CASE("a key id is the first 8 bytes of BLAKE2b-256 of the public key in hex", "[keys]") {
  const SecretKey k = generate_secret_key();
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, k.public_key().bytes.data(), 32, nullptr, 0);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, digest, 8);
  CHECK(key_id(k.public_key()) == std::string(hex));
  CHECK(key_id(k.public_key()).size() == 16);
}

TEST_CASE("a secret key is derived from its seed deterministically", "[keys]") {
  unsigned char seed[kSeedBytes] = {};
  seed[0] = 7;
  const SecretKey a = SecretKey::from_seed(seed);
  const SecretKey b = SecretKey::from_seed(seed);
  CHECK(a.public_key() == b.public_key());
  CHECK(generate_secret_key().public_key() != generate_secret_key().public_key());
}

TEST_CASE("key files round-trip through their text format", "[keys]") {
  const SecretKey k = generate_secret_key();
  const std::string pub_text = format_public_key_file(k.public_key());
  CHECK(pub_text.rfind("# edgeward ed25519 public key v1 keyid=" + key_id(k.public_key()) + "\n",
                       0) == 0);
  CHECK(parse_public_key(pub_text).value() == k.public_key());

  std::string sec_text = format_secret_key_file(k);
  CHECK(sec_text.rfind("# edgeward ed25519 secret key v1 keyid=", 0) == 0);
  auto back = parse_secret_key(sec_text);
  REQUIRE(back.ok());
  CHECK(back->public_key() == k.public_key());
  CHECK(sodium_memcmp(back->data(), k.data(), 64) == 0);
  sodium_memzero(sec_text.data(), sec_text.size());
}

TEST_CASE("a bare base64 public key parses (as in rules.trusted_keys)", "[keys]") {
  const SecretKey k = generate_secret_key();
  const std::string raw(reinterpret_cast<const char*>(k.public_key().bytes.data()), 32);
  CHECK(parse_public_key(base64_encode(raw)).value() == k.public_key());
  CHECK(parse_public_key("  " + base64_encode(raw) + "  \r\n").value() == k.public_key());
}

TEST_CASE("malformed key texts are refused with keys.bad_format or keys.bad_length", "[keys]") {
  const SecretKey k = generate_secret_key();
  const std::string b64 =
      base64_encode(std::string(reinterpret_cast<const char*>(k.public_key().bytes.data()), 32));
  CHECK(parse_public_key("").error().code == "keys.bad_format");
  CHECK(parse_public_key("# only a comment\n").error().code == "keys.bad_format");
  CHECK(parse_public_key(b64 + "\n" + b64 + "\n").error().code == "keys.bad_format");
  CHECK(parse_public_key("not base64!").error().code == "keys.bad_format");
  CHECK(parse_public_key(base64_encode("short")).error().code == "keys.bad_length");
  CHECK(parse_secret_key(base64_encode(std::string(64, 'x'))).error().code == "keys.bad_length");
}

TEST_CASE("write_key_pair creates the secret key 0600 and the public key beside it", "[keys]") {
  TempDir dir;
  const std::string path = dir.path + "/signing.key";
  const SecretKey k = generate_secret_key();
  REQUIRE(write_key_pair(path, k, false).ok());
  CHECK(mode_of(path) == 0600);
  CHECK((mode_of(path + ".pub") & 0077) != 0077);  // readable, within the umask
  CHECK(read_public_key_file(path + ".pub").value() == k.public_key());
  CHECK(read_secret_key_file(path).value().public_key() == k.public_key());
}

TEST_CASE("write_key_pair refuses to overwrite without overwrite=true", "[keys]") {
  TempDir dir;
  const std::string path = dir.path + "/signing.key";
  const SecretKey first = generate_secret_key();
  REQUIRE(write_key_pair(path, first, false).ok());
  const std::string before = slurp(path);
  const SecretKey second = generate_secret_key();
  auto st = write_key_pair(path, second, false);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == "keys.exists");
  CHECK(slurp(path) == before);

  // Only the .pub existing is refused too, and nothing is written.
  const std::string other = dir.path + "/other.key";
  { std::ofstream(other + ".pub") << "x"; }
  CHECK(write_key_pair(other, second, false).error().code == "keys.exists");
  CHECK(::access(other.c_str(), F_OK) != 0);

  REQUIRE(write_key_pair(path, second, true).ok());
  CHECK(mode_of(path) == 0600);
  CHECK(read_secret_key_file(path).value().public_key() == second.public_key());
  CHECK(read_public_key_file(path + ".pub").value() == second.public_key());
}

TEST_CASE("reading a missing key file is keys.io naming the path", "[keys]") {
  auto r = read_public_key_file("/nonexistent/dir/k.pub");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "keys.io");
  CHECK(r.error().message.find("/nonexistent/dir/k.pub") != std::string::npos);
}

TEST_CASE("a moved-from secret key is wiped", "[keys]") {
  SecretKey a = generate_secret_key();
  SecretKey b = std::move(a);
  unsigned char zero[64] = {};
  CHECK(sodium_memcmp(a.data(), zero, 64) == 0);  // NOLINT(bugprone-use-after-move): the point
  CHECK(sodium_memcmp(b.data(), zero, 64) != 0);
}
