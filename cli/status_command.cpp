// `edgeward status` (DESIGN §6): the daemon's own status from its admin endpoint
// (GET /status on admin_listen), plus what the state dir says (event store, active rules,
// enrollment). When the daemon does not answer, the state dir alone is reported.
//
// Where things are: --admin ADDR, else `admin_listen` from --config FILE (default
// /etc/edgeward/edgeward.yaml when it exists), else 127.0.0.1:9088. --state-dir DIR, else the
// config's `state_dir`, else /var/lib/edgeward. Exit 0 when either source answered, 2 when
// neither did (both reasons on stderr).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/table.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "store/event_json.hpp"
#include "store/event_query.hpp"

namespace edgeward::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: edgeward status [--admin ADDR] [--config FILE] [--state-dir DIR] [--timeout 2s] "
    "[--json]\n"
    "  The daemon's status from GET /status on its admin endpoint (ADDR: host:port or\n"
    "  unix:/path; default: admin_listen from the config, else 127.0.0.1:9088), and the state\n"
    "  dir's event store, active rules and enrollment. Works when the daemon is stopped.\n";

constexpr const char* kDefaultConfig = "/etc/edgeward/edgeward.yaml";

struct UsageError {
  std::string message;
};

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

Error errno_error(const std::string& what) {
  return make_error("status.unreachable", what + ": " + std::strerror(errno));
}

// Connects (non-blocking, bounded by `deadline`) to "host:port", "[v6]:port" or "unix:/path".
// Loopback or local socket only in practice: the admin endpoint never listens elsewhere.
Result<int> connect_admin(const std::string& addr, Clock::time_point deadline) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (addr.rfind("unix:", 0) == 0) {
    const std::string path = addr.substr(5);
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    if (path.empty() || path.size() >= sizeof(un->sun_path)) {
      return make_error("status.bad_address", "bad admin address '" + addr + "'");
    }
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
    len = sizeof(sockaddr_un);
    family = AF_UNIX;
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos) {
      return make_error("status.bad_address",
                        "bad admin address '" + addr + "': expected host:port or unix:/path");
    }
    std::string host = addr.substr(0, colon);
    const std::string port_text = addr.substr(colon + 1);
    char* end = nullptr;
    const long port = std::strtol(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || port <= 0 || port > 65535) {
      return make_error("status.bad_address", "bad admin address '" + addr + "': bad port");
    }
    if (host == "localhost") host = "127.0.0.1";
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(static_cast<std::uint16_t>(port));
      len = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(static_cast<std::uint16_t>(port));
      len = sizeof(sockaddr_in6);
      family = AF_INET6;
    } else {
      return make_error("status.bad_address",
                        "bad admin address '" + addr + "': host must be an IP address");
    }
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_error("status.unreachable", std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS) {
      const int e = errno;
      ::close(fd);
      return make_error("status.unreachable",
                        "cannot connect to " + addr + ": " + std::strerror(e));
    }
    pollfd p{fd, POLLOUT, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    int err = 0;
    socklen_t elen = sizeof err;
    if (r <= 0) {
      ::close(fd);
      return make_error("status.unreachable", "cannot connect to " + addr + ": timed out");
    }
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
      ::close(fd);
      return make_error("status.unreachable",
                        "cannot connect to " + addr + ": " + std::strerror(err));
    }
  }
  return fd;
}

struct HttpReply {
  int status = 0;
  std::string body;
};

// Decodes a chunked body; nullopt when malformed.
std::optional<std::string> dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    const auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    const std::string size_text(in.substr(0, in.find_first_of(";\r")));
    char* end = nullptr;
    const unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (size_text.empty() || (end && *end != '\0')) return std::nullopt;
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) return std::nullopt;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

// GET `path` with Connection: close, reading until the peer closes or the deadline.
Result<HttpReply> http_get(const std::string& addr, const std::string& path,
                           std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto fd_or = connect_admin(addr, deadline);
  if (!fd_or) return fd_or.error();
  Fd fd(*fd_or);
  const std::string host = addr.rfind("unix:", 0) == 0 ? "localhost" : addr;
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host +
                              "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
      return make_error("status.unreachable", "timed out sending to " + addr);
    }
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) return errno_error("send to " + addr);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[16384];
  for (;;) {
    pollfd p{fd.get(), POLLIN, 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r <= 0) return make_error("status.unreachable", "timed out waiting for " + addr);
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return errno_error("read from " + addr);
    }
    raw.append(buf, static_cast<std::size_t>(n));
    if (raw.size() > (8u << 20))
      return make_error("status.bad_reply", "reply from " + addr + " too large");
  }
  const auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || raw.size() < 12) {
    return make_error("status.bad_reply", addr + " did not answer with HTTP");
  }
  HttpReply reply;
  reply.status = std::atoi(raw.c_str() + 9);
  std::string head = raw.substr(0, head_end);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string body = raw.substr(head_end + 4);
  if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    auto decoded = dechunk(body);
    if (!decoded) return make_error("status.bad_reply", "bad chunked body from " + addr);
    body = std::move(*decoded);
  } else if (const auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
    const auto n = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    if (n < body.size()) body.resize(n);
  }
  reply.body = std::move(body);
  return reply;
}

// "a.b[0].c" → scalar text, depth first, for the human view of an arbitrary /status document.
void flatten(simdjson::dom::element el, const std::string& prefix, AlignedTable& out) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object;
      if (el.get_object().get(object) != simdjson::SUCCESS) return;
      for (auto field : object) {
        const std::string key(field.key);
        flatten(field.value, prefix.empty() ? key : prefix + "." + key, out);
      }
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array;
      if (el.get_array().get(array) != simdjson::SUCCESS) return;
      std::size_t i = 0;
      for (auto item : array) {
        flatten(item, prefix + "[" + std::to_string(i++) + "]", out);
      }
      if (i == 0) out.add_row({prefix, "[]"});
      return;
    }
    case element_type::STRING:
      out.add_row({prefix, std::string(el.get_string().value_unsafe())});
      return;
    case element_type::INT64:
      out.add_row({prefix, std::to_string(el.get_int64().value_unsafe())});
      return;
    case element_type::UINT64:
      out.add_row({prefix, std::to_string(el.get_uint64().value_unsafe())});
      return;
    case element_type::DOUBLE: {
      std::string n;
      json::append_json_number(n, el.get_double().value_unsafe());
      out.add_row({prefix, n});
      return;
    }
    case element_type::BOOL:
      out.add_row({prefix, el.get_bool().value_unsafe() ? "true" : "false"});
      return;
    case element_type::NULL_VALUE:
      out.add_row({prefix, "null"});
      return;
  }
}

struct Enrollment {
  bool enrolled = false;
  std::string agent_id;
  std::string tenant_id;
};

// <state_dir>/agent.json (DESIGN §9.1), when present and readable.
Enrollment read_enrollment(const fs::path& state_dir) {
  Enrollment e;
  std::ifstream in(state_dir / "agent.json", std::ios::binary);
  if (!in) return e;
  std::stringstream ss;
  ss << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(ss.str()).get(doc) != simdjson::SUCCESS) return e;
  std::string_view v;
  if (doc["agent_id"].get(v) == simdjson::SUCCESS) e.agent_id = std::string(v);
  if (doc["tenant_id"].get(v) == simdjson::SUCCESS) e.tenant_id = std::string(v);
  e.enrolled = !e.agent_id.empty();
  return e;
}

// "537.6 MiB": one decimal in the largest binary unit that keeps the number >= 1.
std::string human_size(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// A key/value table without header, indented under its section line.
void print_indented(const AlignedTable& t) {
  const std::string text = t.render(false);
  std::string out;
  for (std::size_t start = 0; start < text.size();) {
    const auto nl = text.find('\n', start);
    out += "  " + text.substr(start, nl - start + 1);
    start = nl + 1;
  }
  std::fputs(out.c_str(), stdout);
}

struct Options {
  std::optional<std::string> admin;
  std::optional<fs::path> state_dir;
  std::optional<fs::path> config;
  std::chrono::milliseconds timeout{2000};
  bool json = false;
};

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  const std::vector<FlagSpec> flags = {
      switch_flag("--json", o.json),
      value_flag("--admin", o.admin),
      value_flag("--state-dir", o.state_dir),
      value_flag("--config", o.config),
      positive_duration_flag("--timeout", o.timeout),
  };
  auto parsed = read_args(args, 0, flags, /*positional_allowed=*/false);
  if (!parsed) throw UsageError{parsed.error().message};
  if (parsed->help) throw UsageError{""};
  return o;
}

// Fills admin address and state dir from the config file where the flags left them open.
void apply_config(Options& o) {
  fs::path file;
  if (o.config) {
    file = *o.config;
  } else {
    std::error_code ec;
    if (!fs::exists(kDefaultConfig, ec)) return;
    file = kDefaultConfig;
  }
  try {
    const YAML::Node root = YAML::LoadFile(file.string());
    if (!o.admin && root["admin_listen"] && root["admin_listen"].IsScalar()) {
      o.admin = root["admin_listen"].as<std::string>();
    }
    if (!o.state_dir && root["state_dir"] && root["state_dir"].IsScalar()) {
      o.state_dir = root["state_dir"].as<std::string>();
    }
  } catch (const YAML::Exception& e) {
    // An explicit --config must be readable; the default one is a best-effort hint.
    if (o.config) throw UsageError{"cannot read config " + file.string() + ": " + e.what()};
  }
}

int run_status(const std::vector<std::string>& args) {
  try {
    Options o = parse_options(args);
    apply_config(o);
    const std::string admin = o.admin.value_or("127.0.0.1:9088");
    const fs::path state_dir = o.state_dir.value_or("/var/lib/edgeward");

    // The daemon.
    auto reply = http_get(admin, "/status", o.timeout);
    simdjson::dom::parser parser;
    simdjson::dom::element status_doc;
    std::string daemon_error;
    bool status_ok = false;
    if (!reply) {
      daemon_error = reply.error().message;
    } else if (reply->status != 200) {
      daemon_error = "GET /status answered HTTP " + std::to_string(reply->status);
    } else if (parser.parse(reply->body).get(status_doc) != simdjson::SUCCESS) {
      daemon_error = "GET /status did not return JSON";
    } else {
      status_ok = true;
    }

    // The state dir.
    std::optional<store::StoreSummary> summary;
    Error store_error;
    if (auto q = store::EventQuery::open(state_dir); !q) {
      store_error = q.error();
    } else if (auto s = q->summary(); !s) {
      store_error = s.error();
    } else {
      summary = std::move(*s);
    }
    const Enrollment enrollment = read_enrollment(state_dir);

    if (!status_ok && !summary) {
      std::fprintf(stderr, "edgeward status: daemon at %s: %s\n", admin.c_str(),
                   daemon_error.c_str());
      std::fprintf(stderr, "edgeward status: state dir: %s\n", store_error.message.c_str());
      return 2;
    }

    if (o.json) {
      json::JsonWriter w;
      w.begin_object();
      w.key("daemon").begin_object();
      w.field("address", admin);
      w.field("reachable", status_ok);
      if (status_ok) {
        w.key("status").raw(simdjson::minify(status_doc));
      } else {
        w.field("error", daemon_error);
      }
      w.end_object();
      w.key("store").begin_object();
      w.field("state_dir", state_dir.string());
      if (summary) {
        w.field("schema_version", summary->schema_version);
        w.field("events", summary->events);
        w.field("not_uploaded", summary->not_uploaded);
        w.field("database_bytes", summary->database_bytes);
        w.key("last_event");
        if (summary->last_event) {
          w.raw(store::event_json(*summary->last_event));
        } else {
          w.null();
        }
        w.key("rules_version");
        if (summary->active_rules_version) {
          w.number(*summary->active_rules_version);
        } else {
          w.null();
        }
        w.key("rules_sha256");
        if (summary->active_rules_sha256) {
          w.string(*summary->active_rules_sha256);
        } else {
          w.null();
        }
      } else {
        w.key("error")
            .begin_object()
            .field("code", store_error.code)
            .field("message", store_error.message);
        w.end_object();
      }
      w.end_object();
      w.key("enrollment").begin_object().field("enrolled", enrollment.enrolled);
      w.key("agent_id");
      if (enrollment.enrolled) {
        w.string(enrollment.agent_id);
      } else {
        w.null();
      }
      w.end_object();
      w.end_object();
      std::string out = w.take();
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }

    if (status_ok) {
      std::printf("daemon: running (admin %s)\n", admin.c_str());
      AlignedTable t({"KEY", "VALUE"});
      flatten(status_doc, "", t);
      print_indented(t);
    } else {
      std::printf("daemon: not reachable at %s (%s)\n", admin.c_str(), daemon_error.c_str());
    }
    std::printf("\nstate dir: %s\n", state_dir.string().c_str());
    AlignedTable t({"KEY", "VALUE"});
    t.add_row({"enrolled", enrollment.enrolled ? "yes (agent " + enrollment.agent_id + ")" : "no"});
    if (summary) {
      t.add_row({"schema version", std::to_string(summary->schema_version)});
      t.add_row({"events", std::to_string(summary->events)});
      t.add_row({"not uploaded", std::to_string(summary->not_uploaded)});
      t.add_row({"database size", human_size(summary->database_bytes)});
      if (summary->last_event) {
        const auto& e = *summary->last_event;
        t.add_row({"last event", timefmt::format_rfc3339(e.occurred_at) + " " + e.reason_code +
                                     " " + std::string(store::to_string(e.action)) + " " + e.uid});
      } else {
        t.add_row({"last event", "none"});
      }
      t.add_row({"rules version", summary->active_rules_version
                                      ? std::to_string(*summary->active_rules_version)
                                      : "none stored (embedded default pack)"});
    } else {
      t.add_row({"event store", store_error.message});
    }
    print_indented(t);
    return 0;
  } catch (const UsageError& e) {
    if (e.message.empty()) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "edgeward status: %s\n", e.message.c_str());
    return 2;
  }
}

const CommandRegistration kRegistration("status",
                                        "daemon status, or the state dir's when it is stopped",
                                        run_status);

}  // namespace

}  // namespace edgeward::cli
