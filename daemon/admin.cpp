#include "daemon/admin.hpp"

namespace edgeward::daemon {

namespace {

class Ignore final : public http::RequestHandler {
 public:
  void on_request_body(std::string_view) override {}
  void on_request_end() override {}
  void on_client_gone() override {}
};

void reply(http::Responder& r, int status, std::string_view type, std::string_view body) {
  http::ResponseHead head;
  head.status = status;
  head.headers.add("Content-Type", std::string(type));
  head.headers.add("Cache-Control", "no-store");
  r.respond(head, body);
}

}  // namespace

std::unique_ptr<http::RequestHandler> AdminApp::on_request(http::RequestHead&& head,
                                                           const http::BodyFraming&,
                                                           http::Responder& responder) {
  const std::string_view path = head.path();
  if (head.method != "GET" && head.method != "HEAD") {
    reply(responder, 405, "application/json",
          http::openai_error_body("admin endpoints accept GET only", "edgeward_error",
                                  "admin.method_not_allowed"));
  } else if (path == "/healthz") {
    reply(responder, 200, "text/plain; charset=utf-8", "ok\n");
  } else if (path == "/readyz") {
    const bool ready = !sources_.ready || sources_.ready();
    reply(responder, ready ? 200 : 503, "text/plain; charset=utf-8",
          ready ? "ready\n" : "not ready\n");
  } else if (path == "/status") {
    reply(responder, 200, "application/json",
          sources_.status_json ? sources_.status_json() : std::string("{}"));
  } else if (path == "/metrics") {
    reply(responder, 200, "text/plain; version=0.0.4; charset=utf-8",
          sources_.metrics != nullptr ? sources_.metrics->render() : std::string());
  } else {
    reply(responder, 404, "application/json",
          http::openai_error_body("unknown admin path", "edgeward_error", "admin.not_found"));
  }
  return std::make_unique<Ignore>();
}

}  // namespace edgeward::daemon
