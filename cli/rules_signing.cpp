// `edgeward rules keygen|sign|verify` (DESIGN §6, §3.3; docs/signed-blobs.md).
//
// Exit codes: 0 success; 1 `verify` refused the blob (its "blob.*" code on stderr); 2 usage or
// I/O error. Secret key bytes live only in rules::SecretKey (wiped on destruction) and in buffers
// wiped right after use; nothing secret is printed.

#include "cli/rules_signing.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "core/units.hpp"
#include "rules/blob.hpp"
#include "rules/keys.hpp"

#include "rules/pack.hpp"

namespace edgeward::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitError = 2;

int usage_error(const char* cmd, const std::string& message, const char* usage) {
  std::fprintf(stderr, "edgeward rules %s: %s\nusage: %s\n", cmd, message.c_str(), usage);
  return kExitError;
}

int fail(const char* cmd, const Error& e) {
  std::fprintf(stderr, "edgeward rules %s: %s: %s\n", cmd, e.code.c_str(), e.message.c_str());
  return kExitError;
}

// Parsed command-line words: options (repeatable, "--name value" or "--name=value"), flags
// ("--force") and positionals. Unknown options are usage errors.
struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> options;
  std::vector<std::string> flags;
  std::vector<std::string> positionals;
  bool help = false;

  std::optional<std::string> last(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  bool has_flag(const std::string& name) const {
    for (const auto& f : flags) {
      if (f == name) return true;
    }
    return false;
  }
};

Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                              const std::vector<std::string>& value_options,
                              const std::vector<std::string>& flag_options) {
  ParsedArgs out;
  auto is_in = [](const std::vector<std::string>& v, const std::string& s) {
    for (const auto& x : v) {
      if (x == s) return true;
    }
    return false;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::string name = a;
      std::optional<std::string> value;
      if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      }
      if (is_in(flag_options, name) && !value) {
        out.flags.push_back(name);
        continue;
      }
      if (!is_in(value_options, name)) {
        return make_error("cli.usage", "unknown option " + name);
      }
      if (!value) {
        if (i + 1 >= args.size()) return make_error("cli.usage", name + " needs a value");
        value = args[++i];
      }
      out.options[name].push_back(*value);
      continue;
    }
    out.positionals.push_back(a);
  }
  return out;
}

Result<std::string> read_text_file(const std::string& path, std::size_t limit) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return make_error("cli.io", "cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[65536];
  std::size_t n = 0;
  bool too_large = false;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out.size() + n > limit) {
      too_large = true;
      break;
    }
    out.append(buf, n);
  }
  const bool err = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (too_large) return make_error("cli.io", path + " is larger than " + std::to_string(limit));
  if (err) return make_error("cli.io", "cannot read " + path);
  return out;
}

// Writes `data` to `path` atomically (temporary file beside it, then rename), mode 0644.
Status write_output_file(const std::string& path, const std::string& data) {
  if (path == "-") {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size() ||
        std::fflush(stdout) != 0) {
      return make_error("cli.io", "cannot write to stdout");
    }
    return ok_status();
  }
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cli.io", "cannot create " + tmp + ": " + std::strerror(errno));
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error("cli.io", "cannot write " + path + ": " + std::strerror(e));
    }
    off += static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return make_error("cli.io", "cannot write " + path + ": " + std::strerror(e));
  }
  return ok_status();
}

constexpr const char* kKeygenUsage = "edgeward rules keygen --out KEYFILE [--force]";
constexpr const char* kSignUsage =
    "edgeward rules sign PACK.yaml --key KEYFILE [--key KEYFILE2 …] --version N --tenant T "
    "[--expires 30d] -o BLOB";
constexpr const char* kVerifyUsage =
    "edgeward rules verify BLOB --pubkey KEY [--pubkey KEY2 … --threshold N] [--tenant T] "
    "[--json]";

}  // namespace

int run_rules_keygen(const std::vector<std::string>& args) {
  auto parsed = parse_args(args, {"--out", "-o", "--state-dir"}, {"--force"});
  if (!parsed) return usage_error("keygen", parsed.error().message, kKeygenUsage);
  if (parsed->help) {
    std::printf("usage: %s\n", kKeygenUsage);
    return kExitOk;
  }
  auto out = parsed->last("--out");
  if (!out) out = parsed->last("-o");
  if (!out || out->empty()) return usage_error("keygen", "--out KEYFILE is required", kKeygenUsage);
  if (!parsed->positionals.empty()) {
    return usage_error("keygen", "unexpected argument " + parsed->positionals[0], kKeygenUsage);
  }
  const rules::SecretKey key = rules::generate_secret_key();
  if (auto st = rules::write_key_pair(*out, key, parsed->has_flag("--force")); !st) {
    return fail("keygen", st.error());
  }
  std::printf("secret key: %s (mode 0600, keep it offline)\npublic key: %s.pub\nkeyid:      %s\n",
              out->c_str(), out->c_str(), rules::key_id(key.public_key()).c_str());
  return kExitOk;
}

int run_rules_sign(const std::vector<std::string>& args) {
  auto parsed = parse_args(
      args, {"--key", "--version", "--tenant", "--expires", "-o", "--out", "--state-dir"}, {});
  if (!parsed) return usage_error("sign", parsed.error().message, kSignUsage);
  if (parsed->help) {
    std::printf("usage: %s\n", kSignUsage);
    return kExitOk;
  }
  if (parsed->positionals.size() != 1) {
    return usage_error("sign", "exactly one PACK file is required", kSignUsage);
  }
  const std::string pack_path = parsed->positionals[0];
  auto key_paths = parsed->options["--key"];
  if (key_paths.empty()) return usage_error("sign", "--key KEYFILE is required", kSignUsage);
  auto version_text = parsed->last("--version");
  if (!version_text) return usage_error("sign", "--version N is required", kSignUsage);
  auto tenant = parsed->last("--tenant");
  if (!tenant || tenant->empty()) return usage_error("sign", "--tenant T is required", kSignUsage);
  auto out = parsed->last("-o");
  if (!out) out = parsed->last("--out");
  if (!out || out->empty()) return usage_error("sign", "-o BLOB is required", kSignUsage);

  std::uint64_t version = 0;
  {
    const std::string& v = *version_text;
    char* end = nullptr;
    errno = 0;
    const unsigned long long parsed_v = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || v[0] == '+' || *end != '\0' || errno != 0 || parsed_v == 0 ||
        parsed_v > static_cast<unsigned long long>(INT64_MAX)) {
      return usage_error("sign", "--version must be an integer from 1 to 2^63-1", kSignUsage);
    }
    version = parsed_v;
  }
  auto expires_in = units::parse_duration(parsed->last("--expires").value_or("30d"));
  if (!expires_in) return fail("sign", expires_in.error());
  if (expires_in->count() <= 0) {
    return usage_error("sign", "--expires must be a positive duration", kSignUsage);
  }

  auto pack_text = read_text_file(pack_path, rules::kMaxEnvelopeBytes / 2);
  if (!pack_text) return fail("sign", pack_text.error());
  // Only a pack that loads is signed; the payload carries its normalized JSON form.
  auto pack = rules::parse_pack(*pack_text, pack_path);
  if (!pack) {
    std::fprintf(stderr, "edgeward rules sign: %s is not a valid pack:\n%s\n", pack_path.c_str(),
                 pack.error().message.c_str());
    return kExitError;
  }

  std::vector<rules::SecretKey> keys;
  for (const auto& path : key_paths) {
    auto key = rules::read_secret_key_file(path);
    if (!key) return fail("sign", key.error());
    keys.push_back(std::move(key).value());
  }
  std::vector<const rules::SecretKey*> key_ptrs;
  for (const auto& k : keys) key_ptrs.push_back(&k);

  rules::BlobPayload payload;
  payload.tenant_id = *tenant;
  payload.version = version;
  payload.created_at = timefmt::now();
  payload.expires_at = payload.created_at + *expires_in;
  payload.pack_json = rules::pack_to_json(*pack);
  const std::string blob = rules::sign_blob(payload, key_ptrs);
  if (auto st = write_output_file(*out, blob); !st) return fail("sign", st.error());

  std::string key_ids;
  for (const auto& k : keys) {
    if (!key_ids.empty()) key_ids += ",";
    key_ids += rules::key_id(k.public_key());
  }
  // With "-o -" the blob went to stdout; the summary goes to stderr so that stdout stays a blob.
  std::fprintf(
      *out == "-" ? stderr : stdout, "signed %s: version %llu, tenant %s, expires %s, keyid %s\n",
      *out == "-" ? "blob" : out->c_str(), static_cast<unsigned long long>(version),
      tenant->c_str(), timefmt::format_rfc3339(payload.expires_at).c_str(), key_ids.c_str());
  return kExitOk;
}

int run_rules_verify(const std::vector<std::string>& args) {
  auto parsed =
      parse_args(args, {"--pubkey", "--tenant", "--threshold", "--state-dir"}, {"--json"});
  if (!parsed) return usage_error("verify", parsed.error().message, kVerifyUsage);
  if (parsed->help) {
    std::printf("usage: %s\n", kVerifyUsage);
    return kExitOk;
  }
  if (parsed->positionals.size() != 1) {
    return usage_error("verify", "exactly one BLOB file is required", kVerifyUsage);
  }
  const auto& pubkey_paths = parsed->options["--pubkey"];
  if (pubkey_paths.empty()) return usage_error("verify", "--pubkey KEY is required", kVerifyUsage);

  rules::TrustPolicy trust;
  for (const auto& path : pubkey_paths) {
    auto key = rules::read_public_key_file(path);
    if (!key) return fail("verify", key.error());
    trust.keys.push_back(*key);
  }
  if (auto t = parsed->last("--threshold")) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(t->c_str(), &end, 10);
    if (t->empty() || *end != '\0' || v == 0 || v > trust.keys.size()) {
      return usage_error("verify", "--threshold must be from 1 to the number of --pubkey keys",
                         kVerifyUsage);
    }
    trust.threshold = v;
  }
  auto blob = read_text_file(parsed->positionals[0], rules::kMaxEnvelopeBytes + 1);
  if (!blob) return fail("verify", blob.error());

  const std::optional<std::string> tenant = parsed->last("--tenant");
  auto accepted = rules::accept_blob(std::nullopt, *blob, trust, tenant, timefmt::now());
  if (!accepted) {
    // Refusals go to stderr with their stable code first, so scripts can match on it.
    std::fprintf(stderr, "%s: %s\n", accepted.error().code.c_str(),
                 accepted.error().message.c_str());
    return kExitRefused;
  }
  // A gateway refuses a validly signed blob whose pack does not load; so does verify.
  if (auto pack = rules::load_blob_pack(accepted->payload.pack_json); !pack) {
    std::fprintf(stderr, "%s: %s\n", pack.error().code.c_str(), pack.error().message.c_str());
    return kExitRefused;
  }
  const auto& p = accepted->payload;
  std::string key_ids;
  for (const auto& k : accepted->signer_key_ids) {
    if (!key_ids.empty()) key_ids += ",";
    key_ids += k;
  }
  if (parsed->has_flag("--json")) {
    json::JsonWriter w;
    w.begin_object()
        .field("valid", true)
        .field("version", p.version)
        .field("tenant_id", p.tenant_id)
        .field("created_at", timefmt::format_rfc3339(p.created_at))
        .field("expires_at", timefmt::format_rfc3339(p.expires_at))
        .key("key_ids")
        .begin_array();
    for (const auto& k : accepted->signer_key_ids) w.string(k);
    w.end_array()
        .field("payload_sha256", accepted->payload_sha256)
        .field("envelope_sha256", accepted->envelope_sha256)
        .end_object();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf(
        "valid\nversion:    %llu\ntenant:     %s\ncreated_at: %s\nexpires_at: %s\nkeyid:      "
        "%s\nsha256:     %s\n",
        static_cast<unsigned long long>(p.version), p.tenant_id.c_str(),
        timefmt::format_rfc3339(p.created_at).c_str(),
        timefmt::format_rfc3339(p.expires_at).c_str(), key_ids.c_str(),
        accepted->payload_sha256.c_str());
  }
  return kExitOk;
}

}  // namespace edgeward::cli
