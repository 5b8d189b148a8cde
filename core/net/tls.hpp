#pragma once
// TLS (OpenSSL 3) as a transport-agnostic engine: an SSL object between two memory BIOs.
// The owner moves ciphertext between the network and the session; the session turns it into
// plaintext and back. Used by the upstream HTTP client (core/net/http_client.hpp) over libuv
// streams, by the mock upstream's HTTPS side, and later by the cloud sync client.
//
// Rules:
//  - A TlsSession belongs to one connection and one thread. A TlsContext is immutable after
//    creation and may be shared (shared_ptr) by every session of an upstream.
//  - Minimum protocol TLS 1.2. Client contexts offer ALPN "http/1.1".
//  - Verification (when on) checks the chain against the system store or `ca_file`, and the
//    host name (DNS name via SSL_set1_host, IP literal via the certificate's IP SANs).
//  - Errors carry stable codes: "tls.context_failed", "tls.bad_ca_file", "tls.bad_certificate",
//    "tls.bad_key", "tls.handshake_failed", "tls.verify_failed" (message names the X509 verify
//    error, e.g. "Hostname mismatch"), "tls.protocol_error". Messages carry OpenSSL's reason
//    strings, never peer data.

#include <openssl/ssl.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace edgeward::tls {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }  // also frees the BIOs attached to it
};
struct SslSessionDeleter {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};

// An SSL_CTX configured once for one role. A client context also remembers the latest session
// per server name, so that a new connection to the same upstream resumes it (an abbreviated
// handshake) instead of a full one. That cache is the only mutable state; a mutex guards it, so
// a context may be shared across threads.
class TlsContext {
 public:
  // A client context. `verify` = peer verification on; `ca_file` = PEM bundle of trusted CAs,
  // empty = the system store. Errors: "tls.context_failed", "tls.bad_ca_file".
  static Result<std::shared_ptr<TlsContext>> client(bool verify, const std::string& ca_file);

  // A server context with a PEM certificate chain and its private key.
  // Errors: "tls.context_failed", "tls.bad_certificate", "tls.bad_key".
  static Result<std::shared_ptr<TlsContext>> server(const std::string& cert_file,
                                                    const std::string& key_file);

  SSL_CTX* get() const { return ctx_.get(); }
  bool verify() const { return verify_; }

 private:
  friend class TlsSession;
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  // Takes ownership of `session` (one reference) as the one to resume for `server_name`.
  void remember_session(const std::string& server_name, SSL_SESSION* session);
  // A new reference to the session to resume for `server_name`, or null.
  SSL_SESSION* session_for(const std::string& server_name);

  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx_;
  bool verify_ = false;
  std::mutex sessions_mu_;
  std::map<std::string, std::unique_ptr<SSL_SESSION, SslSessionDeleter>, std::less<>> sessions_;
};

// One TLS connection's state machine, driven by its owner:
//   feed_input(ciphertext from the network) -> handshake() until it returns true
//   -> read_plaintext() / write_plaintext() -> take pending_output() bytes to the network.
class TlsSession {
 public:
  // A client session for `server_name` (DNS name or IP literal). SNI is sent for DNS names;
  // when the context verifies, the certificate must match `server_name`.
  static Result<std::unique_ptr<TlsSession>> client(std::shared_ptr<TlsContext> ctx,
                                                    const std::string& server_name);
  static Result<std::unique_ptr<TlsSession>> server(std::shared_ptr<TlsContext> ctx);

  // Ciphertext received from the network. Copied into the input BIO.
  void feed_input(std::string_view ciphertext);

  // Advances the handshake. true = established; false = needs more input (send the pending
  // output first). Errors: "tls.handshake_failed", "tls.verify_failed".
  Result<bool> handshake();
  bool established() const { return established_; }
  // True when the handshake resumed a remembered session (client side).
  bool resumed() const { return SSL_session_reused(ssl_.get()) == 1; }

  // Decrypts into `buf`. Returns bytes read; 0 = no plaintext available until more input.
  // Errors: "tls.closed" (the peer sent close_notify), "tls.protocol_error".
  Result<std::size_t> read_plaintext(char* buf, std::size_t cap);

  // Encrypts `plaintext` into the output BIO (always fully: the memory BIO grows).
  // Errors: "tls.protocol_error".
  Status write_plaintext(std::string_view plaintext);

  // Queues a close_notify alert into the output.
  void shutdown();

  // Ciphertext waiting to go to the network, and taking it out.
  std::size_t pending_output() const;
  // Moves up to `cap` bytes of pending ciphertext into `buf`; returns how many.
  std::size_t take_output(char* buf, std::size_t cap);
  // Moves all pending ciphertext into `out` (appended).
  void take_output(std::string& out);

 private:
  TlsSession(std::shared_ptr<TlsContext> ctx, SSL* ssl, BIO* in, BIO* out)
      : ctx_(std::move(ctx)), ssl_(ssl), in_(in), out_(out) {}
  static Result<std::unique_ptr<TlsSession>> make(std::shared_ptr<TlsContext> ctx);
  friend class TlsContext;  // installs on_new_session as the context's new-session callback
  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  std::shared_ptr<TlsContext> ctx_;
  std::string server_name_;  // client side: the key of the session cache
  std::unique_ptr<SSL, SslDeleter> ssl_;
  BIO* in_;   // owned by ssl_
  BIO* out_;  // owned by ssl_
  bool established_ = false;
};

}  // namespace edgeward::tls
