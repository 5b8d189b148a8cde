#pragma once
// Shared setup for the store tests: a temporary state dir and well-formed events.

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "store/event.hpp"
#include "store/event_writer.hpp"

namespace edgeward::store::testing {

// A fresh directory under $TMPDIR, removed with everything in it at the end of the test.
class TempStateDir {
 public:
  TempStateDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "edgeward-store-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempStateDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempStateDir(const TempStateDir&) = delete;
  TempStateDir& operator=(const TempStateDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A valid event; tests override what they look at.
inline Event make_event(Severity severity = Severity::kHigh,
                        std::string reason_code = "DLP.PII.IBAN",
                        timefmt::TimePoint at = timefmt::now()) {
  Event e;
  e.agent_id = "6f1c2a4e-0d7b-4c1e-9a63-2b8f1e0c5d17";
  e.rule_id = "0b6f5e0a-6a43-4c61-9d1e-6f7a5f8d2c11";
  e.scope = Scope::kRequest;
  e.matched_in = MatchedIn::kBody;
  e.request_method = "POST";
  e.occurred_at = at;
  e.reason_code = std::move(reason_code);
  e.severity = severity;
  e.retry = false;
  e.layer = Layer::kPreTemplate;
  e.uid = ids::event_uid();
  e.request_id = ids::request_id();
  e.action = Action::kBlock;
  e.path_hash = path_hash("/v1/chat/completions");
  e.rule_version = 7;
  e.model = "gpt-4o-mini";
  e.upstream = "openai";
  e.session = session_hash("session-1");
  return e;
}

// Polls `pred` every millisecond until it holds or `timeout` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace edgeward::store::testing
