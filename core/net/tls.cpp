#include "core/net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace edgeward::tls {

namespace {

// The reason string of the oldest queued OpenSSL error (library + reason, no peer data), and
// clears the queue so that the next operation starts clean.
std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  std::string out;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    out = reason != nullptr ? reason : "unknown OpenSSL error";
  } else {
    out = "no OpenSSL error queued";
  }
  ERR_clear_error();
  return out;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::client(bool verify, const std::string& ca_file) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) return make_error("tls.context_failed", "SSL_CTX_new: " + openssl_reason());
  std::shared_ptr<TlsContext> ctx(new TlsContext(raw, verify));
  if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) != 1) {
    return make_error("tls.context_failed", "minimum TLS 1.2: " + openssl_reason());
  }
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  // Returns 0 on success, unlike most of OpenSSL.
  if (SSL_CTX_set_alpn_protos(raw, kAlpnHttp11, sizeof(kAlpnHttp11)) != 0) {
    return make_error("tls.context_failed", "ALPN: " + openssl_reason());
  }
  // Client-side session cache: OpenSSL hands each new session (TLS 1.3: each ticket) to
  // on_new_session, which keeps it in this context; no internal store.
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(raw, &TlsSession::on_new_session);
  if (verify) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
    if (!ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(raw, ca_file.c_str(), nullptr) != 1) {
        return make_error("tls.bad_ca_file",
                          "cannot load CA file " + ca_file + ": " + openssl_reason());
      }
    } else if (SSL_CTX_set_default_verify_paths(raw) != 1) {
      return make_error("tls.context_failed", "system CA store: " + openssl_reason());
    }
  } else {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
  }
  return ctx;
}

Result<std::shared_ptr<TlsContext>> TlsContext::server(const std::string& cert_file,
                                                       const std::string& key_file) {
  ERR_clear_error();
  SSL_CTX* raw = SSL_CTX_new(TLS_server_method());
  if (raw == nullptr) return make_error("tls.context_failed", "SSL_CTX_new: " + openssl_reason());
  std::shared_ptr<TlsContext> ctx(new TlsContext(raw, false));
  if (SSL_CTX_set_min_proto_version(raw, TLS1_2_VERSION) != 1) {
    return make_error("tls.context_failed", "minimum TLS 1.2: " + openssl_reason());
  }
  SSL_CTX_set_mode(raw, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(raw, cert_file.c_str()) != 1) {
    return make_error("tls.bad_certificate",
                      "cannot load certificate " + cert_file + ": " + openssl_reason());
  }
  if (SSL_CTX_use_PrivateKey_file(raw, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error("tls.bad_key", "cannot load key " + key_file + ": " + openssl_reason());
  }
  if (SSL_CTX_check_private_key(raw) != 1) {
    return make_error("tls.bad_key", "key does not match certificate: " + openssl_reason());
  }
  return ctx;
}

void TlsContext::remember_session(const std::string& server_name, SSL_SESSION* session) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = sessions_.find(server_name);
  if (it == sessions_.end()) {
    sessions_.emplace(server_name, session);
  } else {
    it->second.reset(session);
  }
}

SSL_SESSION* TlsContext::session_for(const std::string& server_name) {
  std::lock_guard<std::mutex> lock(sessions_mu_);
  auto it = sessions_.find(server_name);
  if (it == sessions_.end() || SSL_SESSION_is_resumable(it->second.get()) != 1) return nullptr;
  SSL_SESSION_up_ref(it->second.get());
  return it->second.get();
}

int TlsSession::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsSession*>(SSL_get_app_data(ssl));
  if (self == nullptr || self->server_name_.empty()) return 0;  // not kept: OpenSSL frees it
  self->ctx_->remember_session(self->server_name_, session);
  return 1;  // we keep the reference
}

Result<std::unique_ptr<TlsSession>> TlsSession::make(std::shared_ptr<TlsContext> ctx) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx->get());
  if (ssl == nullptr) return make_error("tls.context_failed", "SSL_new: " + openssl_reason());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    SSL_free(ssl);
    return make_error("tls.context_failed", "BIO_new: " + openssl_reason());
  }
  // An empty memory BIO reports "retry" rather than EOF, which is what a socket that has no
  // data yet means.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out);  // the SSL owns both BIOs from here
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(ctx), ssl, in, out));
}

Result<std::unique_ptr<TlsSession>> TlsSession::client(std::shared_ptr<TlsContext> ctx,
                                                       const std::string& server_name) {
  bool verify = ctx->verify();
  auto made = make(std::move(ctx));
  if (!made) return made.error();
  auto session = std::move(made).value();
  SSL* ssl = session->ssl_.get();
  SSL_set_connect_state(ssl);
  session->server_name_ = server_name;
  SSL_set_app_data(ssl, session.get());
  if (SSL_SESSION* cached = session->ctx_->session_for(server_name)) {
    SSL_set_session(ssl, cached);  // takes its own reference
    SSL_SESSION_free(cached);
  }
  bool ip = is_ip_literal(server_name);
  // SNI carries DNS names only (RFC 6066 §3).
  if (!ip && !server_name.empty() && SSL_set_tlsext_host_name(ssl, server_name.c_str()) != 1) {
    return make_error("tls.context_failed", "SNI: " + openssl_reason());
  }
  if (verify && !server_name.empty()) {
    int rc = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str())
                : SSL_set1_host(ssl, server_name.c_str());
    if (rc != 1) return make_error("tls.context_failed", "host check: " + openssl_reason());
  }
  return session;
}

Result<std::unique_ptr<TlsSession>> TlsSession::server(std::shared_ptr<TlsContext> ctx) {
  auto made = make(std::move(ctx));
  if (!made) return made.error();
  SSL_set_accept_state(made.value()->ssl_.get());
  return made;
}

void TlsSession::feed_input(std::string_view ciphertext) {
  // Memory BIO writes only fail on allocation failure; a short write cannot happen.
  std::size_t off = 0;
  while (off < ciphertext.size()) {
    std::size_t chunk = std::min<std::size_t>(ciphertext.size() - off, 1 << 30);
    int n = BIO_write(in_, ciphertext.data() + off, static_cast<int>(chunk));
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
}

Result<bool> TlsSession::handshake() {
  if (established_) return true;
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  if (rc == 1) {
    established_ = true;
    return true;
  }
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return false;
  long verify = SSL_get_verify_result(ssl_.get());
  if (verify != X509_V_OK) {
    ERR_clear_error();
    return make_error("tls.verify_failed", std::string("certificate verification failed: ") +
                                               X509_verify_cert_error_string(verify));
  }
  return make_error("tls.handshake_failed", "TLS handshake failed: " + openssl_reason());
}

Result<std::size_t> TlsSession::read_plaintext(char* buf, std::size_t cap) {
  ERR_clear_error();
  int want = static_cast<int>(std::min<std::size_t>(cap, 1 << 30));
  int n = SSL_read(ssl_.get(), buf, want);
  if (n > 0) return static_cast<std::size_t>(n);
  int err = SSL_get_error(ssl_.get(), n);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return std::size_t{0};
  if (err == SSL_ERROR_ZERO_RETURN) return make_error("tls.closed", "peer sent close_notify");
  return make_error("tls.protocol_error", "TLS read failed: " + openssl_reason());
}

Status TlsSession::write_plaintext(std::string_view plaintext) {
  ERR_clear_error();
  std::size_t off = 0;
  while (off < plaintext.size()) {
    int chunk = static_cast<int>(std::min<std::size_t>(plaintext.size() - off, 1 << 30));
    int n = SSL_write(ssl_.get(), plaintext.data() + off, chunk);
    if (n <= 0) return make_error("tls.protocol_error", "TLS write failed: " + openssl_reason());
    off += static_cast<std::size_t>(n);
  }
  return {};
}

void TlsSession::shutdown() {
  ERR_clear_error();
  (void)SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

std::size_t TlsSession::pending_output() const {
  return BIO_ctrl_pending(out_);
}

std::size_t TlsSession::take_output(char* buf, std::size_t cap) {
  if (cap == 0) return 0;
  int n = BIO_read(out_, buf, static_cast<int>(std::min<std::size_t>(cap, 1 << 30)));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void TlsSession::take_output(std::string& out) {
  std::size_t pending = pending_output();
  if (pending == 0) return;
  std::size_t old = out.size();
  out.resize(old + pending);
  std::size_t got = take_output(out.data() + old, pending);
  out.resize(old + got);
}

}  // namespace edgeward::tls
