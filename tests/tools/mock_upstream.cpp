// edgeward-mock-upstream: a scriptable HTTP/1.1 (and HTTPS) upstream for integration tests and
// benchmarks. It is written directly on libuv + llhttp, independent of Edgeward's own HTTP
// server, so that it is an independent oracle of what the proxy forwards.
//
// Usage:
//   edgeward-mock-upstream --listen 127.0.0.1:PORT [--tls-cert CERT.pem --tls-key KEY.pem]
//                          [--port-file FILE]
// PORT 0 picks a free port. Once listening it prints "listening on 127.0.0.1:<port>" on stdout
// (one line, flushed) and writes "<port>\n" to --port-file when given. SIGTERM/SIGINT exit 0.
// Single-threaded, keep-alive, pipelining answered in order, "Expect: 100-continue" answered
// with an interim 100. Every response carries "X-Mock-Seq: <n>" (the request's sequence
// number, counting from 1, over every recorded request).
//
// Behaviours by path (query parameters apply on every path; unknown parameters are ignored):
//   POST /v1/chat/completions   OpenAI chat completion JSON. The request's "model" is echoed.
//                               With "stream": true in the body: OpenAI SSE (see /sse).
//   POST /v1/completions, /v1/responses, /v1/embeddings
//                               same as /v1/chat/completions (one JSON shape for all).
//   POST /v1/messages           Anthropic message JSON; with "stream": true: Anthropic SSE
//                               (message_start, content_block_start, content_block_delta*,
//                               content_block_stop, message_delta, message_stop).
//   POST /api/chat, /api/generate
//                               Ollama NDJSON stream (default) or one JSON object when the body
//                               has "stream": false. /api/generate uses "response", /api/chat
//                               uses "message".
//   ANY  /sse                   OpenAI SSE, chunked: `events` deltas (default 8), `interval_ms`
//                               between them (default 0), then a finish_reason "stop" event and
//                               "data: [DONE]". One SSE event per HTTP chunk.
//   ANY  /ndjson                Ollama /api/chat NDJSON with `events` lines and `interval_ms`.
//   Reply text: deltas carry "tok<i> " for i in 0..events-1, unless the request header
//   `X-Mock-Reply` gives the text; it is then split into `events` pieces, or into pieces of
//   `chunk_bytes` bytes when that parameter is given (never inside a UTF-8 sequence).
//   Non-streamed answers carry the whole reply text (default "Hello from the mock upstream.").
//   ANY  /echo…                 200 JSON {"method","target","http_version","headers":[[n,v]…],
//                               "body","body_length","body_sha256"}: what reached the upstream.
//   ANY  /chunked               chunked body: `chunks` (default 4) chunks of `size` bytes
//                               (default 16) of a-z repeating, `interval_ms` apart (default 0).
//   ANY  /sized                 Content-Length body of `bytes` bytes (default 1024) of a-z.
//   ANY  /close-delimited       body of `bytes` bytes without Content-Length or chunking,
//                               ended by closing the connection.
//   ANY  /slow-body             Content-Length body of `chunks` x `size` bytes (defaults 5 x 16)
//                               written one piece per `interval_ms` (default 100).
//   ANY  /delay                 200 JSON {"delayed_ms":M} after `ms` milliseconds (default 100).
//   ANY  /status/<code>         that status (200..599) with JSON {"status":code}; no body for
//                               204 and 304.
//   ANY  /hang                  reads the request and never answers (the connection stays open).
//   ANY  /reset                 head with Content-Length 1000000, `after` body bytes (default 64),
//                               then a TCP RST.
//   anything else               404 JSON {"error":"mock: no such path"}.
// Control endpoints (never recorded, never scripted):
//   GET    /__mock/requests     {"count","connections","bad_requests","requests":[…]}: `count`
//                               recorded requests so far, `connections` accepted, `bad_requests`
//                               refused by the parser; `requests` the last 32, oldest first, each
//                               {"seq","method","target","headers","body_length","body_sha256",
//                               "body"} (body cut at 64 KiB).
//   DELETE /__mock/requests     resets count, bad_requests, connections and the list.
//   POST   /__mock/script       queues a one-shot scripted reply: the next recorded request
//                               (any path) is answered with this request's body verbatim,
//                               `status` (default 200), `content_type` (default
//                               application/json); `chunk_bytes`=K sends it chunked in K-byte
//                               chunks, `interval_ms` apart; `header`=Name%3A%20value adds that
//                               header line to the reply; `end`=hang|reset|close cuts a chunked
//                               reply short after its last chunk, without the terminating chunk
//                               (stays silent, sends a TCP RST, or closes). Replies are used in
//                               FIFO order.
//   DELETE /__mock/script       drops queued scripted replies.
//   GET    /__mock/health       200 "ok".
// Malformed requests get 400 and the connection is closed.

#include <llhttp.h>
#include <openssl/sha.h>
#include <uv.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net/tls.hpp"

namespace {

using edgeward::tls::TlsContext;
using edgeward::tls::TlsSession;

constexpr std::size_t kRecordedRequests = 32;
constexpr std::size_t kRecordedBodyCap = 64 * 1024;
constexpr std::size_t kReadBuffer = 64 * 1024;

struct Recorded {
  std::uint64_t seq = 0;
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t body_length = 0;
  std::string body_sha256;
  std::string body;  // cut at kRecordedBodyCap
};

struct ScriptedReply {
  int status = 200;
  std::string content_type;
  std::string body;
  std::size_t chunk_bytes = 0;  // 0 = Content-Length
  unsigned interval_ms = 0;
  std::string header_line;  // "Name: value", or empty
  std::string end;          // "", "hang", "reset" or "close" (chunked replies only)
};

struct Server {
  uv_loop_t* loop = nullptr;
  uv_tcp_t listener{};
  std::shared_ptr<TlsContext> tls;
  std::uint64_t count = 0;
  std::uint64_t connections = 0;
  std::uint64_t bad_requests = 0;
  std::deque<Recorded> recorded;
  std::deque<ScriptedReply> scripts;
  char read_buf[kReadBuffer];
  char plain_buf[kReadBuffer];
};

Server g_server;

// ---- small text helpers ------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto la = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
    auto lb = static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
    if (la != lb) return false;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(hex[u >> 4]);
          out.push_back(hex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::uint64_t query_u64(std::string_view target, std::string_view name, std::uint64_t fallback,
                        std::uint64_t cap) {
  auto v = query_param(target, name);
  if (!v || v->empty()) return fallback;
  std::uint64_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return fallback;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
    if (n > cap) return cap;
  }
  return n;
}

// A light look-up of a top-level-ish JSON string member ("model": "x"); good enough for a mock.
std::string json_string_member(std::string_view body, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\"";
  auto at = body.find(needle);
  if (at == std::string_view::npos) return {};
  std::size_t i = at + needle.size();
  while (i < body.size() && (body[i] == ' ' || body[i] == ':' || body[i] == '\t')) ++i;
  if (i >= body.size() || body[i] != '"') return {};
  std::string out;
  for (++i; i < body.size() && body[i] != '"'; ++i) {
    if (body[i] == '\\' && i + 1 < body.size()) ++i;
    out.push_back(body[i]);
  }
  return out;
}

// "stream": true / false in the body; nullopt when absent.
std::optional<bool> json_bool_member(std::string_view body, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\"";
  auto at = body.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + needle.size();
  while (i < body.size() && (body[i] == ' ' || body[i] == ':' || body[i] == '\t')) ++i;
  if (body.substr(i, 4) == "true") return true;
  if (body.substr(i, 5) == "false") return false;
  return std::nullopt;
}

// Decodes %XX escapes (a query parameter's value); malformed escapes stay as they are.
std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

std::string pattern_bytes(std::size_t n, std::size_t offset = 0) {
  std::string s(n, 'a');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (offset + i) % 26);
  return s;
}

// Splits `text` into `parts` pieces (or pieces of `chunk_bytes`), never inside a UTF-8 sequence.
std::vector<std::string> split_text(std::string_view text, std::size_t parts,
                                    std::size_t chunk_bytes) {
  std::vector<std::string> out;
  if (chunk_bytes == 0) {
    if (parts == 0) parts = 1;
    chunk_bytes = std::max<std::size_t>(1, (text.size() + parts - 1) / parts);
  }
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + chunk_bytes);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    out.emplace_back(text.substr(i, end - i));
    i = end;
  }
  if (out.empty()) out.emplace_back();
  return out;
}

std::string_view status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

// ---- one connection ----------------------------------------------------------------------

struct Request {
  std::string method;
  std::string target;
  std::string http_version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::uint64_t seq = 0;

  std::string_view header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (iequals(n, name)) return v;
    }
    return {};
  }
};

class Conn;

// How a timed response ends after its last piece: normally, or cut short (for the proxy's
// mid-body failure paths).
enum class StreamEnd { finish, hang, reset, close };

// A response produced over time: a list of pieces written `interval_ms` apart.
struct Stream {
  std::vector<std::string> pieces;  // already framed (chunk framing included)
  std::size_t next = 0;
  unsigned interval_ms = 0;
  StreamEnd end = StreamEnd::finish;
};

class Conn {
 public:
  explicit Conn(Server& server) : server_(server) {
    tcp_.data = this;
    timer_.data = this;
  }

  bool accept(uv_stream_t* listener) {
    uv_tcp_init(server_.loop, &tcp_);
    handles_open_ = 1;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
      close();
      return false;
    }
    uv_tcp_nodelay(&tcp_, 1);
    if (server_.tls) {
      auto session = TlsSession::server(server_.tls);
      if (!session) {
        close();
        return false;
      }
      tls_ = std::move(session).value();
    }
    static llhttp_settings_t settings = make_settings();
    llhttp_init(&parser_, HTTP_REQUEST, &settings);
    parser_.data = this;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
    return true;
  }

 private:
  static llhttp_settings_t make_settings() {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = [](llhttp_t* p) { return self(p)->on_message_begin(); };
    s.on_url = [](llhttp_t* p, const char* at, std::size_t n) {
      self(p)->req_.target.append(at, n);
      return 0;
    };
    s.on_header_field = [](llhttp_t* p, const char* at, std::size_t n) {
      auto* c = self(p);
      if (c->in_value_ || c->req_.headers.empty()) {
        c->req_.headers.emplace_back();
        c->in_value_ = false;
      }
      c->req_.headers.back().first.append(at, n);
      return 0;
    };
    s.on_header_value = [](llhttp_t* p, const char* at, std::size_t n) {
      auto* c = self(p);
      c->in_value_ = true;
      c->req_.headers.back().second.append(at, n);
      return 0;
    };
    s.on_headers_complete = [](llhttp_t* p) { return self(p)->on_headers_complete(); };
    s.on_body = [](llhttp_t* p, const char* at, std::size_t n) {
      self(p)->req_.body.append(at, n);
      return 0;
    };
    s.on_message_complete = [](llhttp_t* p) { return self(p)->on_message_complete(); };
    return s;
  }
  static Conn* self(llhttp_t* p) { return static_cast<Conn*>(p->data); }

  int on_message_begin() {
    req_ = Request{};
    in_value_ = false;
    return 0;
  }

  int on_headers_complete() {
    req_.http_version = std::to_string(llhttp_get_http_major(&parser_)) + "." +
                        std::to_string(llhttp_get_http_minor(&parser_));
    req_.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));
    if (iequals(req_.header("Expect"), "100-continue")) send("HTTP/1.1 100 Continue\r\n\r\n");
    return 0;
  }

  int on_message_complete() {
    keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
    bool async = dispatch();
    if (async) {
      busy_ = true;
      return HPE_PAUSED;
    }
    if (!keep_alive_) {
      close_after_write_ = true;
      return HPE_PAUSED;  // stop parsing: nothing after a non-keep-alive request is answered
    }
    return 0;
  }

  // ---- I/O -------------------------------------------------------------------------------

  static void on_alloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
    *buf = uv_buf_init(g_server.read_buf, kReadBuffer);
  }

  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* c = static_cast<Conn*>(s->data);
    if (n < 0) {
      c->close();
      return;
    }
    if (n == 0) return;
    c->on_bytes(std::string_view(buf->base, static_cast<std::size_t>(n)));
    if (!c->closed_) c->flush();
  }

  void on_bytes(std::string_view wire) {
    if (!tls_) {
      feed(wire);
      return;
    }
    tls_->feed_input(wire);
    if (!tls_->established()) {
      auto hs = tls_->handshake();
      if (!hs) {
        flush();
        close();
        return;
      }
      if (!hs.value()) return;
    }
    for (;;) {
      auto got = tls_->read_plaintext(g_server.plain_buf, kReadBuffer);
      if (!got) {
        close();
        return;
      }
      if (got.value() == 0) break;
      feed(std::string_view(g_server.plain_buf, got.value()));
      if (closed_) return;
    }
  }

  void feed(std::string_view data) {
    if (busy_ || close_after_write_) {
      if (busy_) pending_in_.append(data);
      return;
    }
    llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
    if (err == HPE_OK) return;
    if (err == HPE_PAUSED) {
      const char* pos = llhttp_get_error_pos(&parser_);
      std::size_t used = static_cast<std::size_t>(pos - data.data());
      if (busy_) pending_in_.assign(data.substr(used));
      return;
    }
    server_.bad_requests++;
    respond(400, "application/json", "{\"error\":\"mock: malformed request\"}");
    close_after_write_ = true;
  }

  // An asynchronous response finished: parse what arrived meanwhile.
  void finish_async() {
    busy_ = false;
    if (!keep_alive_) {
      close_after_write_ = true;
      flush();
      return;
    }
    llhttp_resume(&parser_);
    std::string rest = std::move(pending_in_);
    pending_in_.clear();
    if (!rest.empty()) feed(rest);
    flush();
  }

  void send(std::string_view plain) { out_.append(plain); }

  struct WriteReq {
    uv_write_t req;
    std::string data;
  };

  void flush() {
    if (closed_) return;
    std::string wire;
    if (tls_) {
      if (!out_.empty() && tls_->established()) {
        if (!tls_->write_plaintext(out_)) {
          close();
          return;
        }
        out_.clear();
      }
      tls_->take_output(wire);
    } else {
      wire.swap(out_);
    }
    if (!wire.empty() && writes_in_flight_ == 0) {
      // Most responses fit the socket buffer: write them now, queue only the rest.
      uv_buf_t b = uv_buf_init(wire.data(), static_cast<unsigned>(wire.size()));
      int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1);
      if (n > 0) wire.erase(0, static_cast<std::size_t>(n));
    }
    if (!wire.empty()) {
      auto* w = new WriteReq{};
      w->data = std::move(wire);
      w->req.data = this;
      uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      writes_in_flight_++;
      int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &b, 1,
                        [](uv_write_t* r, int status) {
                          auto* wr = reinterpret_cast<WriteReq*>(r);
                          auto* c = static_cast<Conn*>(r->data);
                          delete wr;
                          c->writes_in_flight_--;
                          if (status < 0) {
                            c->close();
                          } else {
                            c->maybe_close_after_write();
                          }
                          c->maybe_delete();
                        });
      if (rc != 0) {
        writes_in_flight_--;
        delete w;
        close();
        return;
      }
    }
    maybe_close_after_write();
  }

  void maybe_close_after_write() {
    if (close_after_write_ && writes_in_flight_ == 0 && !closed_) {
      if (tls_) tls_->shutdown();
      close();
    }
  }

  void reset_connection() {
    if (closed_) return;
    closed_ = true;
    stop_timer();
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    // The RST close replaces uv_close; it still calls the close callback.
    if (uv_tcp_close_reset(&tcp_, on_close) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    stop_timer();
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  }

  static void on_close(uv_handle_t* h) {
    auto* c = static_cast<Conn*>(h->data);
    c->handles_open_--;
    c->maybe_delete();
  }

  void stop_timer() {
    if (timer_init_) {
      timer_init_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
    }
  }

  void maybe_delete() {
    if (closed_ && handles_open_ == 0 && writes_in_flight_ == 0) delete this;
  }

  // ---- responses -------------------------------------------------------------------------

  void head(int status, std::string_view content_type, std::string_view framing) {
    std::string h;
    h.reserve(160);
    h += "HTTP/1.1 ";
    h += std::to_string(status);
    h += ' ';
    h += status_text(status);
    h += "\r\n";
    if (!content_type.empty()) {
      h += "Content-Type: ";
      h += content_type;
      h += "\r\n";
    }
    h += "X-Mock-Seq: ";
    h += std::to_string(req_.seq);
    h += "\r\n";
    if (!extra_header_.empty()) {
      h += extra_header_;
      h += "\r\n";
      extra_header_.clear();
    }
    h += framing;
    if (!keep_alive_) h += "Connection: close\r\n";
    h += "\r\n";
    send(h);
  }

  void respond(int status, std::string_view content_type, std::string_view body) {
    bool no_body = status == 204 || status == 304;
    head(status, no_body ? std::string_view{} : content_type,
         no_body ? std::string() : "Content-Length: " + std::to_string(body.size()) + "\r\n");
    if (!no_body && req_.method != "HEAD") send(body);
  }

  static std::string chunk(std::string_view data) {
    char size[24];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    std::string out(size);
    out.append(data);
    out += "\r\n";
    return out;
  }

  // Starts a timed response: the pieces go out `interval_ms` apart (the first at once).
  bool start_stream(Stream s) {
    stream_ = std::move(s);
    if (stream_.interval_ms == 0) {
      for (const auto& p : stream_.pieces) send(p);
      stream_.next = stream_.pieces.size();
      return cut_short();
    }
    if (!stream_.pieces.empty()) send(stream_.pieces[stream_.next++]);
    arm_timer(stream_.interval_ms);
    return true;
  }

  void arm_timer(unsigned ms) {
    if (!timer_init_) {
      uv_timer_init(server_.loop, &timer_);
      timer_init_ = true;
      handles_open_++;
    }
    uv_timer_start(&timer_, on_timer, ms, 0);
  }

  static void on_timer(uv_timer_t* t) {
    auto* c = static_cast<Conn*>(t->data);
    c->on_stream_tick();
  }

  void on_stream_tick() {
    if (delayed_body_) {
      std::string body = std::move(*delayed_body_);
      delayed_body_.reset();
      respond(200, "application/json", body);
      finish_async();
      return;
    }
    if (stream_.next < stream_.pieces.size()) {
      send(stream_.pieces[stream_.next++]);
    }
    if (stream_.next < stream_.pieces.size()) {
      flush();
      arm_timer(stream_.interval_ms);
      return;
    }
    if (cut_short()) return;
    finish_async();
  }

  // After the last piece of a stream that ends cut short: true (the exchange never finishes).
  bool cut_short() {
    switch (stream_.end) {
      case StreamEnd::finish:
        return false;
      case StreamEnd::hang:
        flush();
        return true;
      case StreamEnd::reset:
        flush();
        reset_connection();
        return true;
      case StreamEnd::close:
        close_after_write_ = true;
        flush();
        return true;
    }
    return false;
  }

  // Records the request (unless it is a control request) and answers it. Returns true when the
  // answer is asynchronous (a timer or a hang will finish it).
  bool dispatch() {
    std::string_view path = path_of(req_.target);
    if (path.starts_with("/__mock/")) {
      control(path);
      return false;
    }
    req_.seq = ++server_.count;
    bool async = answer(path);
    record();  // after answering: it moves the headers and the body away
    return async;
  }

  bool answer(std::string_view path) {
    if (!server_.scripts.empty()) {
      ScriptedReply s = std::move(server_.scripts.front());
      server_.scripts.pop_front();
      return scripted(std::move(s));
    }
    const std::string_view t = req_.target;
    if (path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/responses" ||
        path == "/v1/embeddings") {
      if (json_bool_member(req_.body, "stream").value_or(false)) return openai_sse();
      respond(200, "application/json", openai_completion());
      return false;
    }
    if (path == "/v1/messages") {
      if (json_bool_member(req_.body, "stream").value_or(false)) return anthropic_sse();
      respond(200, "application/json", anthropic_message());
      return false;
    }
    if (path == "/api/chat" || path == "/api/generate") {
      bool gen = path == "/api/generate";
      if (!json_bool_member(req_.body, "stream").value_or(true)) {
        respond(200, "application/json", ollama_line(gen, reply_text(), true));
        return false;
      }
      return ollama_ndjson(gen);
    }
    if (path == "/sse") return openai_sse();
    if (path == "/ndjson") return ollama_ndjson(false);
    if (path.starts_with("/echo")) {
      respond(200, "application/json", echo_json());
      return false;
    }
    if (path == "/chunked") {
      Stream s;
      auto n = query_u64(t, "chunks", 4, 100000);
      auto size = query_u64(t, "size", 16, 1 << 20);
      head(200, "text/plain", "Transfer-Encoding: chunked\r\n");
      for (std::uint64_t i = 0; i < n; ++i)
        s.pieces.push_back(chunk(pattern_bytes(size, i * size)));
      s.pieces.push_back("0\r\n\r\n");
      s.interval_ms = static_cast<unsigned>(query_u64(t, "interval_ms", 0, 60000));
      return start_stream(std::move(s));
    }
    if (path == "/sized") {
      respond(200, "text/plain", pattern_bytes(query_u64(t, "bytes", 1024, 1ull << 30)));
      return false;
    }
    if (path == "/close-delimited") {
      keep_alive_ = false;
      head(200, "text/plain", "");
      send(pattern_bytes(query_u64(t, "bytes", 1024, 1ull << 30)));
      close_after_write_ = true;
      return false;
    }
    if (path == "/slow-body") {
      auto n = query_u64(t, "chunks", 5, 100000);
      auto size = query_u64(t, "size", 16, 1 << 20);
      head(200, "text/plain", "Content-Length: " + std::to_string(n * size) + "\r\n");
      Stream s;
      for (std::uint64_t i = 0; i < n; ++i) s.pieces.push_back(pattern_bytes(size, i * size));
      s.interval_ms = static_cast<unsigned>(
          std::max<std::uint64_t>(1, query_u64(t, "interval_ms", 100, 60000)));
      return start_stream(std::move(s));
    }
    if (path == "/delay") {
      auto ms = query_u64(t, "ms", 100, 600000);
      delayed_body_ = "{\"delayed_ms\":" + std::to_string(ms) + "}";
      arm_timer(static_cast<unsigned>(std::max<std::uint64_t>(ms, 1)));
      return true;
    }
    if (path.starts_with("/status/")) {
      int code = 0;
      for (char c : path.substr(8)) {
        code = (c >= '0' && c <= '9' && code < 1000) ? code * 10 + (c - '0') : 1000;
      }
      if (code < 200 || code > 599) code = 400;
      respond(code, "application/json", "{\"status\":" + std::to_string(code) + "}");
      return false;
    }
    if (path == "/hang") return true;
    if (path == "/reset") {
      head(200, "text/plain", "Content-Length: 1000000\r\n");
      send(pattern_bytes(query_u64(t, "after", 64, 999999)));
      flush();
      reset_connection();
      return true;
    }
    respond(404, "application/json", "{\"error\":\"mock: no such path\"}");
    return false;
  }

  // Keeps the request for /__mock/requests. The digest of a body that is kept whole is
  // computed when asked for, not on the hot path of a benchmark.
  void record() {
    if (server_.recorded.size() >= kRecordedRequests) server_.recorded.pop_front();
    Recorded r;
    r.seq = req_.seq;
    r.method = req_.method;
    r.target = req_.target;
    r.headers = std::move(req_.headers);
    r.body_length = req_.body.size();
    if (req_.body.size() > kRecordedBodyCap) {
      r.body_sha256 = sha256_hex(req_.body);
      r.body = req_.body.substr(0, kRecordedBodyCap);
    } else {
      r.body = std::move(req_.body);
    }
    req_.headers.clear();
    req_.body.clear();
    server_.recorded.push_back(std::move(r));
  }

  void control(std::string_view path) {
    if (path == "/__mock/health") {
      respond(200, "text/plain", "ok");
    } else if (path == "/__mock/requests" && req_.method == "DELETE") {
      server_.count = 0;
      server_.bad_requests = 0;
      server_.connections = 0;
      server_.recorded.clear();
      respond(200, "application/json", "{\"reset\":true}");
    } else if (path == "/__mock/requests") {
      std::string out = "{\"count\":" + std::to_string(server_.count) +
                        ",\"connections\":" + std::to_string(server_.connections) +
                        ",\"bad_requests\":" + std::to_string(server_.bad_requests) +
                        ",\"requests\":[";
      bool first = true;
      for (const auto& r : server_.recorded) {
        if (!first) out += ',';
        first = false;
        out += "{\"seq\":" + std::to_string(r.seq) + ",\"method\":";
        append_json_string(out, r.method);
        out += ",\"target\":";
        append_json_string(out, r.target);
        out += ",\"headers\":";
        append_headers(out, r.headers);
        out += ",\"body_length\":" + std::to_string(r.body_length) + ",\"body_sha256\":\"" +
               (r.body_sha256.empty() ? sha256_hex(r.body) : r.body_sha256) + "\",\"body\":";
        append_json_string(out, r.body);
        out += '}';
      }
      out += "]}";
      respond(200, "application/json", out);
    } else if (path == "/__mock/script" && req_.method == "DELETE") {
      server_.scripts.clear();
      respond(200, "application/json", "{\"queued\":0}");
    } else if (path == "/__mock/script" && req_.method == "POST") {
      ScriptedReply s;
      s.status = static_cast<int>(query_u64(req_.target, "status", 200, 599));
      if (s.status < 200) s.status = 200;
      auto ct = query_param(req_.target, "content_type");
      s.content_type = ct ? std::string(*ct) : "application/json";
      s.content_type = percent_decode(s.content_type);  // "text%2Fevent-stream" works too
      s.body = std::move(req_.body);
      s.chunk_bytes = query_u64(req_.target, "chunk_bytes", 0, 1 << 30);
      s.interval_ms = static_cast<unsigned>(query_u64(req_.target, "interval_ms", 0, 60000));
      if (auto h = query_param(req_.target, "header")) s.header_line = percent_decode(*h);
      if (auto e = query_param(req_.target, "end")) s.end = std::string(*e);
      server_.scripts.push_back(std::move(s));
      respond(200, "application/json",
              "{\"queued\":" + std::to_string(server_.scripts.size()) + "}");
    } else {
      respond(404, "application/json", "{\"error\":\"mock: no such control path\"}");
    }
  }

  static void append_headers(std::string& out,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
    out += '[';
    bool first = true;
    for (const auto& [n, v] : headers) {
      if (!first) out += ',';
      first = false;
      out += '[';
      append_json_string(out, n);
      out += ',';
      append_json_string(out, v);
      out += ']';
    }
    out += ']';
  }

  bool scripted(ScriptedReply s) {
    extra_header_ = std::move(s.header_line);
    if (s.chunk_bytes == 0) {
      respond(s.status, s.content_type, s.body);
      return false;
    }
    head(s.status, s.content_type, "Transfer-Encoding: chunked\r\n");
    Stream st;
    for (std::size_t i = 0; i < s.body.size(); i += s.chunk_bytes) {
      st.pieces.push_back(chunk(std::string_view(s.body).substr(i, s.chunk_bytes)));
    }
    st.interval_ms = s.interval_ms;
    if (s.end == "hang") {
      st.end = StreamEnd::hang;
    } else if (s.end == "reset") {
      st.end = StreamEnd::reset;
    } else if (s.end == "close") {
      st.end = StreamEnd::close;
    } else {
      st.pieces.push_back("0\r\n\r\n");
    }
    return start_stream(std::move(st));
  }

  std::string model() const {
    std::string m = json_string_member(req_.body, "model");
    return m.empty() ? "mock-model" : m;
  }

  std::string reply_text() const {
    std::string_view r = req_.header("X-Mock-Reply");
    return r.empty() ? std::string("Hello from the mock upstream.") : std::string(r);
  }

  std::vector<std::string> reply_pieces() const {
    auto events = query_u64(req_.target, "events", 8, 100000);
    auto chunk_bytes = query_u64(req_.target, "chunk_bytes", 0, 1 << 20);
    std::string_view r = req_.header("X-Mock-Reply");
    if (r.empty()) {
      std::vector<std::string> out;
      for (std::uint64_t i = 0; i < std::max<std::uint64_t>(events, 1); ++i) {
        out.push_back("tok" + std::to_string(i) + " ");
      }
      return out;
    }
    return split_text(r, events, chunk_bytes);
  }

  unsigned interval() const {
    return static_cast<unsigned>(query_u64(req_.target, "interval_ms", 0, 60000));
  }

  std::string openai_completion() const {
    std::string text = reply_text();
    std::string out =
        "{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion\",\"created\":"
        "1700000000,\"model\":";
    append_json_string(out, model());
    out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
    append_json_string(out, text);
    out += "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":" +
           std::to_string(req_.body.size() / 4) +
           ",\"completion_tokens\":" + std::to_string(text.size() / 4) +
           ",\"total_tokens\":" + std::to_string((req_.body.size() + text.size()) / 4) + "}}";
    return out;
  }

  bool openai_sse() {
    head(200, "text/event-stream", "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n");
    std::string m;
    append_json_string(m, model());
    Stream s;
    auto pieces = reply_pieces();
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      std::string ev =
          "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\","
          "\"created\":1700000000,\"model\":" +
          m + ",\"choices\":[{\"index\":0,\"delta\":{";
      if (i == 0) ev += "\"role\":\"assistant\",";
      ev += "\"content\":";
      append_json_string(ev, pieces[i]);
      ev += "},\"finish_reason\":null}]}\n\n";
      s.pieces.push_back(chunk(ev));
    }
    s.pieces.push_back(
        chunk("data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":"
              "1700000000,\"model\":" +
              m + ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"));
    s.pieces.push_back(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
    s.interval_ms = interval();
    return start_stream(std::move(s));
  }

  std::string anthropic_message() const {
    std::string text = reply_text();
    std::string out = "{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\",\"model\":";
    append_json_string(out, model());
    out += ",\"content\":[{\"type\":\"text\",\"text\":";
    append_json_string(out, text);
    out += "}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":" +
           std::to_string(req_.body.size() / 4) +
           ",\"output_tokens\":" + std::to_string(text.size() / 4) + "}}";
    return out;
  }

  bool anthropic_sse() {
    head(200, "text/event-stream", "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n");
    Stream s;
    std::string start =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock\","
        "\"type\":\"message\",\"role\":\"assistant\",\"model\":";
    append_json_string(start, model());
    start +=
        ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":"
        "10,\"output_tokens\":1}}}\n\n";
    s.pieces.push_back(chunk(start));
    s.pieces.push_back(
        chunk("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
              "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"));
    for (const auto& p : reply_pieces()) {
      std::string ev =
          "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
          "\"delta\":{\"type\":\"text_delta\",\"text\":";
      append_json_string(ev, p);
      ev += "}}\n\n";
      s.pieces.push_back(chunk(ev));
    }
    s.pieces.push_back(chunk(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"));
    s.pieces.push_back(
        chunk("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
              "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":8}}\n\n"));
    s.pieces.push_back(chunk("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n") +
                       "0\r\n\r\n");
    s.interval_ms = interval();
    return start_stream(std::move(s));
  }

  std::string ollama_line(bool generate, std::string_view text, bool done) const {
    std::string out = "{\"model\":";
    append_json_string(out, model());
    out += ",\"created_at\":\"2026-01-01T00:00:00Z\",";
    if (generate) {
      out += "\"response\":";
      append_json_string(out, text);
    } else {
      out += "\"message\":{\"role\":\"assistant\",\"content\":";
      append_json_string(out, text);
      out += '}';
    }
    out += done ? ",\"done\":true,\"done_reason\":\"stop\"}" : ",\"done\":false}";
    return out;
  }

  bool ollama_ndjson(bool generate) {
    head(200, "application/x-ndjson", "Transfer-Encoding: chunked\r\n");
    Stream s;
    for (const auto& p : reply_pieces())
      s.pieces.push_back(chunk(ollama_line(generate, p, false) + "\n"));
    s.pieces.push_back(chunk(ollama_line(generate, "", true) + "\n") + "0\r\n\r\n");
    s.interval_ms = interval();
    return start_stream(std::move(s));
  }

  std::string echo_json() const {
    std::string out = "{\"method\":";
    append_json_string(out, req_.method);
    out += ",\"target\":";
    append_json_string(out, req_.target);
    out += ",\"http_version\":\"" + req_.http_version + "\",\"headers\":";
    append_headers(out, req_.headers);
    out += ",\"body\":";
    append_json_string(out, req_.body);
    out += ",\"body_length\":" + std::to_string(req_.body.size()) + ",\"body_sha256\":\"" +
           sha256_hex(req_.body) + "\"}";
    return out;
  }

  Server& server_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  bool timer_init_ = false;
  int handles_open_ = 0;
  int writes_in_flight_ = 0;
  bool closed_ = false;
  llhttp_t parser_{};
  std::unique_ptr<TlsSession> tls_;
  Request req_;
  bool in_value_ = false;
  bool keep_alive_ = true;
  std::string extra_header_;  // a scripted reply's extra header line, for its head
  bool busy_ = false;
  bool close_after_write_ = false;
  std::string pending_in_;
  std::string out_;
  Stream stream_;
  std::optional<std::string> delayed_body_;
};

void on_connection(uv_stream_t* listener, int status) {
  if (status < 0) return;
  auto* c = new Conn(g_server);
  if (c->accept(listener)) g_server.connections++;
}

int usage() {
  std::fprintf(stderr,
               "usage: edgeward-mock-upstream --listen 127.0.0.1:PORT [--tls-cert CERT "
               "--tls-key KEY] [--port-file FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string cert, key, port_file;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--listen" && (v = value())) {
      listen = v;
    } else if (a == "--tls-cert" && (v = value())) {
      cert = v;
    } else if (a == "--tls-key" && (v = value())) {
      key = v;
    } else if (a == "--port-file" && (v = value())) {
      port_file = v;
    } else {
      return usage();
    }
  }
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return usage();
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = std::atoi(listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) return usage();
  if (cert.empty() != key.empty()) return usage();
  if (!cert.empty()) {
    auto ctx = TlsContext::server(cert, key);
    if (!ctx) {
      std::fprintf(stderr, "mock-upstream: %s: %s\n", ctx.error().code.c_str(),
                   ctx.error().message.c_str());
      return 1;
    }
    g_server.tls = std::move(ctx).value();
  }

  g_server.loop = uv_default_loop();
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    std::fprintf(stderr, "mock-upstream: bad listen address\n");
    return 2;
  }
  uv_tcp_init(g_server.loop, &g_server.listener);
  int rc = uv_tcp_bind(&g_server.listener, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&g_server.listener), 1024, on_connection);
  }
  if (rc != 0) {
    std::fprintf(stderr, "mock-upstream: listen %s: %s\n", listen.c_str(), uv_strerror(rc));
    return 1;
  }
  sockaddr_storage bound{};
  int len = sizeof(bound);
  uv_tcp_getsockname(&g_server.listener, reinterpret_cast<sockaddr*>(&bound), &len);
  int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%d\n", bound_port);
      std::fclose(f);
      std::rename(tmp.c_str(), port_file.c_str());
    }
  }
  std::printf("listening on %s:%d\n", host.c_str(), bound_port);
  std::fflush(stdout);

  uv_signal_t sigterm, sigint;
  uv_signal_init(g_server.loop, &sigterm);
  uv_signal_init(g_server.loop, &sigint);
  auto stop = [](uv_signal_t* s, int) { uv_stop(s->loop); };
  uv_signal_start(&sigterm, stop, SIGTERM);
  uv_signal_start(&sigint, stop, SIGINT);
  signal(SIGPIPE, SIG_IGN);
  uv_run(g_server.loop, UV_RUN_DEFAULT);
  return 0;
}
