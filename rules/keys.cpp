#include "rules/keys.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace edgeward::rules {
namespace {

// Wipes a std::string's bytes before it is freed.
struct WipeOnExit {
  std::string& s;
  ~WipeOnExit() {
    if (!s.empty()) sodium_memzero(s.data(), s.size());
  }
};

constexpr std::string_view kSecretHeader = "# edgeward ed25519 secret key v1 keyid=";
constexpr std::string_view kPublicHeader = "# edgeward ed25519 public key v1 keyid=";

// The single non-comment, non-blank line of a key file, trimmed. A view into `text`.
Result<std::string_view> key_line(std::string_view text) {
  std::string_view found;
  int count = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    found = line;
    ++count;
  }
  if (count != 1) {
    return make_error("keys.bad_format", count == 0 ? "key file has no key line"
                                                    : "key file has more than one key line");
  }
  return found;
}

// Reads a whole file. On failure the message names the path and errno text.
Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("keys.io", "cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      sodium_memzero(buf, sizeof buf);
      if (!out.empty()) sodium_memzero(out.data(), out.size());
      return make_error("keys.io", "cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    // Key files are tiny; a huge one is not a key file and must not exhaust memory.
    if (out.size() + static_cast<std::size_t>(n) > 64 * 1024) {
      ::close(fd);
      sodium_memzero(buf, sizeof buf);
      if (!out.empty()) sodium_memzero(out.data(), out.size());
      return make_error("keys.bad_format", path + " is too large to be a key file");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  sodium_memzero(buf, sizeof buf);
  return out;
}

// Writes `data` to a new file created with O_EXCL and `mode`; removes it again on failure.
Status write_new_file(const std::string& path, std::string_view data, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) return make_error("keys.exists", path + " already exists (use --force)");
    return make_error("keys.io", "cannot create " + path + ": " + std::strerror(errno));
  }
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return make_error("keys.io", "cannot write " + path + ": " + std::strerror(e));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    ::unlink(path.c_str());
    return make_error("keys.io", "cannot write " + path + ": " + std::strerror(e));
  }
  return ok_status();
}

// Writes `data` at `path`: O_EXCL directly, or (overwrite) via a fresh temporary and rename.
Status write_key_file(const std::string& path, std::string_view data, mode_t mode, bool overwrite) {
  if (!overwrite) return write_new_file(path, data, mode);
  unsigned char rnd[8];
  randombytes_buf(rnd, sizeof rnd);
  char hex[2 * sizeof rnd + 1];
  sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
  const std::string tmp = path + ".tmp-" + hex;
  if (auto st = write_new_file(tmp, data, mode); !st) return st;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error("keys.io", "cannot replace " + path + ": " + std::strerror(e));
  }
  return ok_status();
}

}  // namespace

void ensure_sodium() {
  // sodium_init is thread-safe and idempotent; -1 means no usable entropy source, which no
  // caller could recover from.
  if (sodium_init() < 0) {
    std::fputs("edgeward: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

SecretKey::SecretKey() = default;

SecretKey::~SecretKey() {
  sodium_memzero(sk_.data(), sk_.size());
}

SecretKey::SecretKey(SecretKey&& other) noexcept : sk_(other.sk_), public_key_(other.public_key_) {
  sodium_memzero(other.sk_.data(), other.sk_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    sk_ = other.sk_;
    public_key_ = other.public_key_;
    sodium_memzero(other.sk_.data(), other.sk_.size());
  }
  return *this;
}

SecretKey SecretKey::from_seed(const unsigned char* seed) {
  ensure_sodium();
  SecretKey key;
  crypto_sign_seed_keypair(key.public_key_.bytes.data(), key.sk_.data(), seed);
  return key;
}

SecretKey generate_secret_key() {
  ensure_sodium();
  unsigned char seed[kSeedBytes];
  randombytes_buf(seed, sizeof seed);
  SecretKey key = SecretKey::from_seed(seed);
  sodium_memzero(seed, sizeof seed);
  return key;
}

std::string key_id(const PublicKey& key) {
  ensure_sodium();
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, key.bytes.data(), key.bytes.size(), nullptr, 0);
  char hex[17];
  sodium_bin2hex(hex, sizeof hex, digest, 8);
  return std::string(hex, 16);
}

std::string base64_encode(std::string_view bytes) {
  ensure_sodium();
  const std::size_t cap = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(cap, '\0');
  sodium_bin2base64(out.data(), cap, reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(cap - 1);  // drop the terminating NUL sodium writes
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  ensure_sodium();
  if (text.size() % 4 != 0) {
    return make_error("blob.bad_base64", "base64 length is not a multiple of 4");
  }
  std::string out(text.size() / 4 * 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  // No ignore set: whitespace is malformed. libsodium rejects bad characters, missing padding
  // and non-zero leftover bits; `end` catches anything it stopped short of.
  const int rc =
      sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || end != text.data() + text.size()) {
    return make_error("blob.bad_base64", "malformed base64");
  }
  out.resize(len);
  return out;
}

std::string format_public_key_file(const PublicKey& key) {
  const std::string_view raw(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size());
  return std::string(kPublicHeader) + key_id(key) + "\n" + base64_encode(raw) + "\n";
}

std::string format_secret_key_file(const SecretKey& key) {
  const std::string_view seed(reinterpret_cast<const char*>(key.seed()), kSeedBytes);
  std::string b64 = base64_encode(seed);
  WipeOnExit wipe{b64};
  std::string out;
  out.reserve(kSecretHeader.size() + 16 + 1 + b64.size() + 1);
  out.append(kSecretHeader).append(key_id(key.public_key())).append("\n").append(b64).append("\n");
  return out;
}

Result<PublicKey> parse_public_key(std::string_view text) {
  auto line = key_line(text);
  if (!line) return line.error();
  auto raw = base64_decode(*line);
  if (!raw) return make_error("keys.bad_format", "public key is not valid base64");
  if (raw->size() != kPublicKeyBytes) {
    return make_error("keys.bad_length", "public key is " + std::to_string(raw->size()) +
                                             " bytes, expected " + std::to_string(kPublicKeyBytes));
  }
  PublicKey key;
  std::memcpy(key.bytes.data(), raw->data(), kPublicKeyBytes);
  return key;
}

Result<SecretKey> parse_secret_key(std::string_view text) {
  auto line = key_line(text);
  if (!line) return line.error();
  auto raw = base64_decode(*line);
  if (!raw) return make_error("keys.bad_format", "secret key is not valid base64");
  WipeOnExit wipe{raw.value()};
  if (raw->size() != kSeedBytes) {
    return make_error("keys.bad_length", "secret key is " + std::to_string(raw->size()) +
                                             " bytes, expected " + std::to_string(kSeedBytes));
  }
  return SecretKey::from_seed(reinterpret_cast<const unsigned char*>(raw->data()));
}

Result<PublicKey> read_public_key_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  auto key = parse_public_key(*text);
  if (!key) return make_error(key.error().code, path + ": " + key.error().message);
  return key;
}

Result<SecretKey> read_secret_key_file(const std::string& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  WipeOnExit wipe{text.value()};
  auto key = parse_secret_key(*text);
  if (!key) return make_error(key.error().code, path + ": " + key.error().message);
  return key;
}

Status write_key_pair(const std::string& path, const SecretKey& key, bool overwrite) {
  const std::string pub_path = path + ".pub";
  if (!overwrite) {
    // Check both before writing either, so a refusal leaves nothing half-written behind.
    struct stat st {};
    for (const std::string* p : {&path, &pub_path}) {
      if (::lstat(p->c_str(), &st) == 0) {
        return make_error("keys.exists", *p + " already exists (use --force)");
      }
    }
  }
  std::string secret_text = format_secret_key_file(key);
  WipeOnExit wipe{secret_text};
  if (auto st = write_key_file(path, secret_text, 0600, overwrite); !st) return st;
  if (auto st = write_key_file(pub_path, format_public_key_file(key.public_key()), 0644, overwrite);
      !st) {
    return st;
  }
  return ok_status();
}

}  // namespace edgeward::rules
