#pragma once
// Ed25519 rule-signing keys (DESIGN §3.3): key ids, key files, and secret-key hygiene.
//
// Rules:
//  - Every function is thread-safe and initialises libsodium itself (sodium_init is idempotent).
//  - SecretKey owns the only copy of secret bytes it is given; it wipes them (sodium_memzero) when
//    destroyed or moved from. It cannot be copied, so the bytes never multiply by accident.
//  - Error messages name files and lengths, never key bytes.
//
// Key file format (docs/signed-blobs.md), one comment line then one base64 line (standard
// alphabet, padded):
//   # edgeward ed25519 secret key v1 keyid=<16 hex>    + base64 of the 32-byte seed
//   # edgeward ed25519 public key v1 keyid=<16 hex>    + base64 of the 32-byte public key
// Lines starting with '#' and blank lines are ignored when reading, so a bare base64 public key
// (as in the daemon's `rules.trusted_keys`) parses too.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::rules {

inline constexpr std::size_t kPublicKeyBytes = 32;
inline constexpr std::size_t kSeedBytes = 32;
inline constexpr std::size_t kSignatureBytes = 64;

// An Ed25519 public key.
struct PublicKey {
  std::array<unsigned char, kPublicKeyBytes> bytes{};
  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

// An Ed25519 secret key (libsodium's 64-byte form: seed || public key). Wiped on destruction.
class SecretKey {
 public:
  ~SecretKey();
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;

  // Derives the key pair from a 32-byte seed. The caller wipes its own copy of the seed.
  static SecretKey from_seed(const unsigned char* seed);

  const PublicKey& public_key() const { return public_key_; }
  // The 64-byte libsodium secret key, for crypto_sign_detached.
  const unsigned char* data() const { return sk_.data(); }
  // The 32-byte seed (the first half of the secret key).
  const unsigned char* seed() const { return sk_.data(); }

 private:
  SecretKey();  // only from_seed makes one: there is no "empty" secret key

  std::array<unsigned char, 64> sk_{};
  PublicKey public_key_;
};

// Initialises libsodium once (aborts the process when the OS has no entropy source). Every
// function here calls it; other code that uses libsodium directly may too.
void ensure_sodium();

// A fresh random key pair from libsodium's CSPRNG.
SecretKey generate_secret_key();

// "first 8 bytes of BLAKE2b-256 of the public key" as 16 lowercase hex digits (DESIGN §3.3).
std::string key_id(const PublicKey& key);

// Standard base64 (RFC 4648 §4, padded), as DSSE uses for payloads and signatures.
std::string base64_encode(std::string_view bytes);
// Strict standard base64: padding required, no whitespace, no trailing garbage, canonical final
// bits. Error "blob.bad_base64".
Result<std::string> base64_decode(std::string_view text);

// Key file texts (format above).
std::string format_public_key_file(const PublicKey& key);
// The returned string holds secret material: wipe it (sodium_memzero) once written.
std::string format_secret_key_file(const SecretKey& key);

// Parses a public key file's text, or a bare base64 public key. Errors: "keys.bad_format" (no
// key line, more than one, not base64), "keys.bad_length" (not 32 bytes).
Result<PublicKey> parse_public_key(std::string_view text);
// Parses a secret key file's text. Same errors as parse_public_key, for a 32-byte seed. The
// caller wipes `text` after the call; intermediate copies are wiped here.
Result<SecretKey> parse_secret_key(std::string_view text);

// Reads and parses key files. Errors: "keys.io" (cannot open/read; the message names the path),
// plus the parse errors above. read_secret_key_file wipes its read buffer.
Result<PublicKey> read_public_key_file(const std::string& path);
Result<SecretKey> read_secret_key_file(const std::string& path);

// Writes a new key pair: the secret key to `path` and the public key to `path + ".pub"`.
// The secret file is created with O_CREAT|O_EXCL and mode 0600 from the start (never chmod'ed
// afterwards). Without `overwrite`, an existing file at either path is "keys.exists". With
// `overwrite`, each file is written to a fresh temporary name beside it (also O_EXCL, 0600) and
// renamed over the old one, so a reader never sees a half-written key. Other errors: "keys.io".
Status write_key_pair(const std::string& path, const SecretKey& key, bool overwrite);

}  // namespace edgeward::rules
