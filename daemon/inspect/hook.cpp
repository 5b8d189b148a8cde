#include "daemon/inspect/hook.hpp"

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/log.hpp"
#include "core/time.hpp"
#include "daemon/inspect/precompiled_pack.hpp"
#include "rules/keys.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"
#include "rules/taxonomy.hpp"

namespace edgeward::inspect {

// ---- EventSink ----------------------------------------------------------------------------

EventSink::~EventSink() {
  if (writer_) (void)writer_->shutdown();
}

bool EventSink::submit(store::Event&& event) {
  std::lock_guard lock(mu_);
  if (writer_) {
    bool ok = writer_->submit(std::move(event));
    if (ok) {
      submitted_.fetch_add(1, std::memory_order_relaxed);
    } else {
      dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    return ok;
  }
  if (queue_.size() >= kQueueCapacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  queue_.push_back(std::move(event));
  submitted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void EventSink::attach(std::unique_ptr<store::EventWriter> writer) {
  std::lock_guard lock(mu_);
  writer_ = std::move(writer);
  if (!writer_) return;
  while (!queue_.empty()) {
    if (!writer_->submit(std::move(queue_.front()))) dropped_.fetch_add(1);
    queue_.pop_front();
  }
}

std::vector<store::Event> EventSink::drain() {
  std::lock_guard lock(mu_);
  std::vector<store::Event> out(std::make_move_iterator(queue_.begin()),
                                std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

std::size_t EventSink::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

// ---- one exchange -------------------------------------------------------------------------

namespace {

// The proxy's padding after a buffered body is enough for simdjson to parse it in place.
static_assert(daemon::kBodyPadding >= kJsonPadding);

rules::Scanner& thread_scanner() {
  thread_local rules::Scanner scanner;
  return scanner;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  return http::iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True when a Content-Encoding field names a coding other than identity: the bytes are
// compressed or otherwise encoded, and the rules cannot read them. Every field and every coding
// of a list counts, so "identity" in a first field does not hide "gzip" in a second. (A
// transfer coding under the chunking is refused by the HTTP parser and server.)
bool encoded(const http::Headers& headers) {
  for (const http::Header& h : headers.list()) {
    if (!http::iequals(h.name, "Content-Encoding")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view coding = trim(rest.substr(0, comma));
      if (!coding.empty() && !http::iequals(coding, "identity")) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

// Where the first CR or LF of `s` is (npos: none). Two memchr calls: find_first_of("\r\n")
// calls memchr once per byte of `s`, which made this sniff 2 % of a 16 KiB exchange's CPU.
std::size_t line_break(std::string_view s) {
  if (s.empty()) return std::string_view::npos;
  const void* lf = std::memchr(s.data(), '\n', s.size());
  const std::size_t lf_at =
      lf != nullptr ? static_cast<std::size_t>(static_cast<const char*>(lf) - s.data()) : s.size();
  if (const void* cr = std::memchr(s.data(), '\r', lf_at); cr != nullptr) {
    return static_cast<std::size_t>(static_cast<const char*>(cr) - s.data());
  }
  return lf != nullptr ? lf_at : std::string_view::npos;
}

// A buffered model-endpoint body that is a stream after all: SSE or NDJSON sent as JSON or
// text. The SDKs that asked to stream parse it whatever its type, and skip what they do not
// understand (a junk line before the events, after them), so it is inspected as the stream it
// is rather than as one raw text: SSE when any line is a `data` field, NDJSON when two or more
// lines start a JSON object, and in either case only when the body is not one JSON document.
std::optional<StreamFormat> sniff_stream(std::string_view body) {
  bool sse = false;
  std::size_t objects = 0;
  std::string_view left = body;
  while (!left.empty() && !sse) {
    const std::size_t nl = line_break(left);
    const std::string_view raw_line = left.substr(0, nl);
    left = nl == std::string_view::npos ? std::string_view{} : left.substr(nl + 1);
    sse = raw_line.starts_with("data:") || raw_line.starts_with(
                                               "\xEF\xBB\xBF"
                                               "data:");
    const std::string_view line = trim(raw_line);
    if (!line.empty() && line.front() == '{') ++objects;
  }
  if (!sse && objects < 2) return std::nullopt;
  if (is_one_json_document(body)) return std::nullopt;
  return sse ? StreamFormat::kSse : StreamFormat::kNdjson;
}

// True for a body in UTF-16 or UTF-32 (RFC 4627 §3: the first two characters of a JSON text
// are ASCII, so a NUL among its first four bytes, or a UTF-16/32 byte-order mark, gives the
// encoding away). Parsers that sniff the encoding (Python's json.loads on bytes) read such a
// body; the rules, written for UTF-8, would not see a word of it.
bool wide_unicode(std::string_view body) {
  const std::string_view head = body.substr(0, 4);
  if (head.find('\0') != std::string_view::npos) return true;
  return head.starts_with("\xFE\xFF") || head.starts_with("\xFF\xFE");
}

// The 403 for a body the gateway cannot read (docs/inspection.md, "What is not inspected").
Answer uninspectable(Dialect dialect, std::string_view what) {
  Answer a;
  a.status = 403;
  a.reason_code = "POLICY.CUSTOM";
  a.body = block_body(dialect, a.reason_code, what, {});
  return a;
}

daemon::HookAnswer to_hook_answer(const Answer& a) {
  daemon::HookAnswer h;
  h.status = a.status;
  h.headers.add("Content-Type", "application/json");
  h.headers.add("Edgeward-Reason", a.reason_code);
  if (!a.event_uid.empty()) h.headers.add("Edgeward-Event", a.event_uid);
  h.body = a.body;
  return h;
}

// Adds the time of a scope to `total` and, when given, stores it in `call` too: one clock pair
// per hook call, whatever is measured of it.
class Stopwatch {
 public:
  explicit Stopwatch(std::chrono::nanoseconds& total, std::chrono::nanoseconds* call = nullptr)
      : total_(total), call_(call), start_(std::chrono::steady_clock::now()) {}
  ~Stopwatch() {
    const std::chrono::nanoseconds d = std::chrono::steady_clock::now() - start_;
    total_ += d;
    if (call_ != nullptr) *call_ = d;
  }

 private:
  std::chrono::nanoseconds& total_;
  std::chrono::nanoseconds* call_;
  std::chrono::steady_clock::time_point start_;
};

class InspectedExchange final : public daemon::RequestInspection {
 public:
  InspectedExchange(InspectionEngine& engine, std::shared_ptr<const RulesSnapshot> snap,
                    ExchangeFacts facts)
      : engine_(engine),
        snap_(std::move(snap)),
        x_(snap_->rules, thread_scanner(), snap_->policy, std::move(facts)) {}
  ~InspectedExchange() override { finish(); }

  void set_route(Route r) {
    dialect_ = r.dialect;
    endpoint_ = r.endpoint;
  }

  bool wants_request_body() const override { return snap_->rules != nullptr; }

  daemon::RequestVerdict decide_request(http::RequestHead& head, std::string_view body,
                                        std::size_t padding) override {
    // The request's inspection time is this whole call (extraction, scans, decision).
    Stopwatch sw(elapsed_, &request_time_);
    request_inspected_ = true;
    daemon::RequestVerdict v;
    const bool json_typed =
        head.headers.get("Content-Type").value_or("").find("json") != std::string_view::npos;
    if (x_.has_rules() &&
        (encoded(head.headers) ||
         ((endpoint_ != Endpoint::kUnknown || json_typed) && wide_unicode(body)))) {
      // A compressed or UTF-16/32 request body would reach the provider unread: never
      // forwarded.
      v.kind = daemon::RequestVerdict::Kind::answer;
      v.answer = to_hook_answer(uninspectable(dialect_, "uninspectable request encoding"));
      return v;
    }
    RequestDecision d = x_.inspect_request(head.headers, head.target, body, padding);
    request_body_bytes_ = body.size();
    switch (d.kind) {
      case RequestDecision::Kind::answer:
        v.kind = daemon::RequestVerdict::Kind::answer;
        v.answer = to_hook_answer(d.answer);
        return v;
      case RequestDecision::Kind::rewrite:
        v.kind = daemon::RequestVerdict::Kind::rewrite;
        v.body = std::move(d.body);
        break;
      case RequestDecision::Kind::allow:
        break;
    }
    // Compressed responses cannot be inspected: ask the provider for identity encoding.
    if (x_.has_rules()) head.headers.remove("Accept-Encoding");
    return v;
  }

  daemon::ResponseMode on_response_head(http::ResponseHead& head) override {
    Stopwatch sw(elapsed_);
    if (!x_.has_rules()) return daemon::ResponseMode::pass;
    // A head that holds a finding never leaves: the body is read and dropped for the answer.
    if (auto answer = x_.inspect_response_head(head)) {
      head_answer_ = std::move(*answer);
      return daemon::ResponseMode::buffer;
    }
    // Compressed, or typed twice (which of two Content-Types a client believes is its own
    // choice): decided in decide_response, never passed uninspected.
    if (encoded(head.headers) || head.headers.count("Content-Type") > 1) {
      uninspectable_ = true;
      return daemon::ResponseMode::buffer;
    }
    std::string_view type = trim(head.headers.get("Content-Type").value_or(""));
    response_json_typed_ = type.find("json") != std::string_view::npos;
    const bool sse = starts_with_ci(type, "text/event-stream");
    const bool ndjson = starts_with_ci(type, "application/x-ndjson") ||
                        starts_with_ci(type, "application/ndjson") ||
                        starts_with_ci(type, "application/jsonl");
    if (sse || ndjson) {
      // A known dialect's client reads its own framing whatever the type says (the Ollama
      // library reads lines, the OpenAI and Anthropic SDKs read SSE): inspect that framing.
      StreamFormat format = sse ? StreamFormat::kSse : StreamFormat::kNdjson;
      if (endpoint_ != Endpoint::kUnknown && dialect_ != Dialect::kGeneric) {
        format = dialect_ == Dialect::kOllama ? StreamFormat::kNdjson : StreamFormat::kSse;
      }
      x_.start_stream(format);
      return daemon::ResponseMode::stream;
    }
    if (type.empty() || starts_with_ci(type, "application/json") ||
        type.find("+json") != std::string_view::npos) {
      return daemon::ResponseMode::buffer;
    }
    // A model endpoint answers in JSON, SSE or NDJSON. Anything else it sends (text/plain,
    // text/json, a mislabelled stream, an HTML error page) is buffered and scanned as raw
    // bytes: an SDK may still read it (openai-python parses any type ending in "json", and the
    // SDKs parse SSE whatever the type when they asked to stream).
    if (endpoint_ != Endpoint::kUnknown) return daemon::ResponseMode::buffer;
    // Elsewhere other types (files, audio, images, plain-text downloads) pass as they stream:
    // buffering them would hold large bodies for rules that look at model text only
    // (docs/inspection.md, "What is not inspected").
    return daemon::ResponseMode::pass;
  }

  daemon::ResponseVerdict decide_response(std::string_view body, std::size_t padding) override {
    Stopwatch sw(elapsed_);
    daemon::ResponseVerdict v;
    if (head_answer_) {
      v.kind = daemon::ResponseVerdict::Kind::answer;
      v.answer = to_hook_answer(*head_answer_);
      return v;
    }
    if (uninspectable_ ||
        ((endpoint_ != Endpoint::kUnknown || response_json_typed_) && wide_unicode(body))) {
      v.kind = daemon::ResponseVerdict::Kind::answer;
      v.answer = to_hook_answer(uninspectable(dialect_, "uninspectable response encoding"));
      return v;
    }
    if (endpoint_ != Endpoint::kUnknown) {
      if (auto format = sniff_stream(body)) {
        // Read twice: in the route's own dialect (tool calls, its events' shapes), then as
        // generic events (every string of every event: a body of another dialect's shape).
        // A block in either answers with the error event alone: the whole body is here, so
        // nothing released before the match was known need leave.
        const std::optional<Route> readings[] = {std::nullopt,
                                                 Route{Dialect::kGeneric, Endpoint::kUnknown}};
        std::string out;
        for (const std::optional<Route>& reading : readings) {
          StreamInspector* st = x_.start_stream(*format, reading);
          if (st == nullptr) {  // no rules: nothing reads it (fail_mode open), as streamed
            out.assign(body);
            break;
          }
          out.clear();
          if (st->feed(body, out) == StreamStep::kEnd || st->finish(out) == StreamStep::kEnd) {
            stream_blocked_ = true;
            out.erase(0, st->block_offset().value_or(0));
            break;
          }
        }
        v.kind = daemon::ResponseVerdict::Kind::rewrite;
        v.body = std::move(out);
        return v;
      }
    }
    ResponseDecision d = x_.inspect_response(body, padding);
    switch (d.kind) {
      case ResponseDecision::Kind::answer:
        v.kind = daemon::ResponseVerdict::Kind::answer;
        v.answer = to_hook_answer(d.answer);
        break;
      case ResponseDecision::Kind::rewrite:
        v.kind = daemon::ResponseVerdict::Kind::rewrite;
        v.body = std::move(d.body);
        break;
      case ResponseDecision::Kind::allow:
        break;
    }
    return v;
  }

  daemon::StreamAction on_response_chunk(std::string_view chunk, std::string& out) override {
    Stopwatch sw(elapsed_);
    StreamInspector* s = x_.stream();
    if (s == nullptr) return daemon::StreamAction::forward;
    if (s->feed(chunk, out) == StreamStep::kEnd) {
      stream_blocked_ = true;
      return daemon::StreamAction::end;
    }
    return daemon::StreamAction::replace;
  }

  void on_response_end(std::string& out) override {
    Stopwatch sw(elapsed_);
    if (StreamInspector* s = x_.stream()) {
      if (s->finish(out) == StreamStep::kEnd) stream_blocked_ = true;
    }
  }

  bool on_response_failure(std::string_view message, std::string_view code,
                           std::string& out) override {
    Stopwatch sw(elapsed_);
    StreamInspector* s = x_.stream();
    if (s == nullptr || s->ended()) return false;
    s->fail(message, code, out);
    return true;
  }

  void on_complete(int status) override {
    (void)status;
    finish();
  }

 private:
  void finish() {
    if (finished_) return;
    finished_ = true;
    InspectionEngine::ExchangeReport r;
    r.seconds = std::chrono::duration<double>(elapsed_).count();
    r.bytes_scanned =
        x_.counters().bytes_scanned + (x_.stream() != nullptr ? x_.stream()->bytes_scanned() : 0);
    r.stream_blocked = stream_blocked_;
    r.request_seconds =
        request_inspected_ ? std::chrono::duration<double>(request_time_).count() : -1;
    r.request_body_bytes = request_body_bytes_;
    engine_.report(r, x_.events().take());
  }

  InspectionEngine& engine_;
  std::shared_ptr<const RulesSnapshot> snap_;
  ExchangeInspector x_;
  Dialect dialect_ = Dialect::kGeneric;
  Endpoint endpoint_ = Endpoint::kUnknown;
  std::chrono::nanoseconds elapsed_{0};
  std::chrono::nanoseconds request_time_{0};  // decide_request's call
  bool request_inspected_ = false;
  std::size_t request_body_bytes_ = 0;
  bool uninspectable_ = false;
  bool response_json_typed_ = false;   // the response's Content-Type names JSON
  std::optional<Answer> head_answer_;  // the response head held a finding
  bool stream_blocked_ = false;
  bool finished_ = false;
};

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("rules.file_unreadable", "cannot read rules.file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return make_error("rules.file_unreadable", "cannot read rules.file " + path);
  }
  return ss.str();
}

}  // namespace

// ---- the engine ---------------------------------------------------------------------------

InspectionEngine::InspectionEngine(MetricsRegistry& metrics, std::unique_ptr<EventSink> sink)
    : metrics_(metrics), sink_(std::move(sink)) {
  requests_inspected_ = &metrics.counter("edgeward_inspection_requests_total",
                                         "Exchanges inspected (request and response)");
  bytes_scanned_ = &metrics.counter("edgeward_inspection_scanned_bytes_total",
                                    "Bytes of text scanned by the rules");
  fail_open_ = &metrics.counter("edgeward_inspection_fail_open_total",
                                "Requests forwarded uninspected: no valid rules, fail_mode open");
  events_dropped_ = &metrics.counter("edgeward_inspection_events_dropped_total",
                                     "Events refused by the event queue (full or invalid)");
  streams_blocked_ = &metrics.counter("edgeward_inspection_streams_ended_total",
                                      "Streamed responses ended by a block or a parse failure");
  inspect_seconds_ = &metrics.histogram(
      "edgeward_inspection_duration_seconds",
      "Time spent inspecting one exchange (request, response, stream), in seconds",
      {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05});
  // The request's inspection alone, by body size, so "what does inspecting a 16 KiB request
  // cost" reads off one series (body_size="16KiB": bodies over 4 KiB up to 16 KiB).
  for (std::size_t i = 0; i < kBodySizeClasses.size(); ++i) {
    request_seconds_[i] = &metrics.histogram(
        "edgeward_inspection_request_duration_seconds",
        "Time spent inspecting one request (extraction, every surface and layer scanned, "
        "decision), by request body size: each class holds the bodies above the previous bound",
        {0.000005, 0.00001, 0.00002, 0.00003, 0.00005, 0.000075, 0.0001, 0.00015, 0.00025, 0.0005,
         0.001, 0.0025, 0.01},
        {{"body_size", std::string(kBodySizeClasses[i].label)}});
  }
  rules_version_ = &metrics.gauge("edgeward_rules_version",
                                  "Version of the active rule blob (0: embedded default pack)");
  rules_loaded_ = &metrics.gauge("edgeward_rules_loaded", "1 when a valid rule set is active");
  for (const rules::ReasonCode& rc : rules::reason_codes()) {
    std::array<Counter*, 3> row{};
    for (rules::Action a : {rules::Action::block, rules::Action::redact, rules::Action::monitor}) {
      row[static_cast<std::size_t>(a)] = &metrics.counter(
          "edgeward_decisions_total", "Rule decisions (events) by reason code and action",
          {{"reason_code", std::string(rc.code)}, {"action", std::string(rules::to_string(a))}});
    }
    decisions_.push_back(row);
  }
  EventSink* sink_ptr = sink_.get();
  metrics.gauge_callback("edgeward_inspection_events_queued",
                         "Events waiting in memory because the store is not available", {},
                         [sink_ptr] { return static_cast<double>(sink_ptr->queued()); });
}

InspectionEngine::~InspectionEngine() {
  if (compiler_.joinable()) compiler_.join();
}

void InspectionEngine::count_refusal(const Error& e) {
  metrics_
      .counter("edgeward_rules_refusals_total",
               "Rule sets refused (blob acceptance or compile), by error code", {{"code", e.code}})
      .inc();
  std::lock_guard lock(state_mu_);
  last_refusal_ = e;
  last_refusal_at_ = timefmt::format_rfc3339(timefmt::now());
}

InspectionEngine::Loaded InspectionEngine::load(
    const daemon::Config& config, const std::optional<rules::ActiveBlob>& active,
    const std::shared_ptr<const rules::CompiledRules>& current, bool mode_changed) {
  Loaded out;
  rules::CompileOptions options;
  options.mode =
      config.mode == "monitor" ? rules::EnforcementMode::monitor : rules::EnforcementMode::enforce;
  auto fail = [&](Error e) {
    out.refusal = std::move(e);
    return out;
  };
  if (!config.rules.file || config.rules.file->empty()) {
    auto pack = rules::parse_pack(rules::default_pack_yaml(), "<embedded>");
    if (!pack.ok()) return fail(pack.error());
    out.source = "embedded";
    // The databases compiled at build time load in milliseconds; another CPU or Hyperscan
    // (or monitor mode, compiled differently) refuses them and we compile.
    if (std::string_view pre = precompiled_default_pack(); !pre.empty()) {
      auto loaded = rules::load_compiled_rules(*pack, pre, options);
      if (loaded.ok()) {
        out.rules = *loaded;
        return out;
      }
    }
    auto compiled = rules::compile_rules(std::move(*pack), options);
    if (!compiled.ok()) return fail(compiled.error());
    out.rules = *compiled;
    return out;
  }
  auto text = read_file(*config.rules.file);
  if (!text.ok()) return fail(text.error());
  rules::TrustPolicy trust;
  for (const std::string& k : config.rules.trusted_keys) {
    auto key = rules::parse_public_key(k);
    if (!key.ok()) return fail(key.error());
    trust.keys.push_back(*key);
  }
  auto accepted = rules::accept_blob(active, *text, trust, std::nullopt, timefmt::now());
  if (!accepted.ok()) return fail(accepted.error());
  out.version = static_cast<std::int64_t>(accepted->payload.version);
  out.source = "file";
  out.blob = rules::ActiveBlob{accepted->payload.version, accepted->payload_sha256};
  out.expires_at = accepted->payload.expires_at;
  if (accepted->idempotent_noop && current && !mode_changed) {
    out.rules = current;
    return out;
  }
  auto pack = rules::load_blob_pack(accepted->payload.pack_json);
  if (!pack.ok()) return fail(pack.error());
  // A restart does not compile: the databases are cached in the store, keyed by the payload's
  // SHA-256 (and the mode, which is compiled in), Hyperscan's version and this CPU.
  // engine_cache_key() names Hyperscan's version and the CPU platform together.
  store::CompiledKey cache_key{accepted->payload_sha256, rules::engine_cache_key(),
                               "in hyperscan_version", std::string("rules/") + config.mode};
  if (blob_store_) {
    auto hit = blob_store_->compiled(cache_key);
    if (hit.ok() && hit->has_value()) {
      auto cached = rules::load_compiled_rules(*pack, **hit, options);
      if (cached.ok()) {
        log::info("rules.loaded_from_cache", {{"version", out.version}});
        out.rules = *cached;
        return out;
      }
    }
  }
  auto compiled = rules::compile_rules(std::move(*pack), options);
  if (!compiled.ok()) return fail(compiled.error());
  out.rules = *compiled;
  if (blob_store_) {
    auto bytes = out.rules->serialize();
    // The cache is an optimisation: a failure to write it is logged, never fatal.
    Status st = bytes.ok() ? blob_store_->put_compiled(cache_key, *bytes) : Status(bytes.error());
    if (st.ok())
      st = blob_store_->prune_compiled(accepted->payload_sha256).ok()
               ? Status{}
               : Status(make_error("store.write_failed", "prune failed"));
    if (!st.ok()) log::warn("rules.cache_write_failed", {{"error", st.error()}});
  }
  return out;
}

void InspectionEngine::publish(const daemon::Config& config, Loaded loaded) {
  auto previous = snapshot_.load();
  auto next = std::make_shared<RulesSnapshot>();
  next->policy.fail_closed = config.fail_mode != "open";
  next->policy.holdback_bytes = static_cast<std::size_t>(config.streaming.holdback_bytes);
  next->upstreams = config.upstreams;
  if (loaded.refusal) {
    count_refusal(*loaded.refusal);
    log::warn("rules.refused",
              {{"error", *loaded.refusal}, {"message", log::Safe{loaded.refusal->message}}});
    // The last good rules stay active.
    if (previous) {
      next->rules = previous->rules;
      next->version = previous->version;
      next->source = previous->source;
      next->expires_at = previous->expires_at;
    } else {
      next->source = "none";
    }
  } else {
    next->rules = loaded.rules;
    next->version = loaded.version;
    next->source = loaded.source;
    next->expires_at = loaded.expires_at;
    std::lock_guard lock(state_mu_);
    if (loaded.blob) active_blob_ = loaded.blob;
    if (!previous || previous->rules != loaded.rules) {
      log::info("rules.active",
                {{"source", log::Safe{loaded.source}}, {"version", loaded.version}});
    }
  }
  {
    std::lock_guard lock(state_mu_);
    mode_ = config.mode;
  }
  rules_version_->set(next->version);
  rules_loaded_->set(next->rules ? 1 : 0);
  if (!next->rules) {
    log::error("rules.unavailable", {{"fail_mode", log::Safe{config.fail_mode}}});
  }
  snapshot_.store(std::move(next));
}

Result<std::shared_ptr<InspectionEngine>> InspectionEngine::create(const daemon::Config& config,
                                                                   MetricsRegistry& metrics,
                                                                   bool open_store) {
  std::unique_ptr<store::EventWriter> writer;
  if (open_store) {
    store::WriterOptions options;
    options.retention.retention = std::chrono::hours(24 * config.events.retention_days);
    options.retention.max_rows = static_cast<std::int64_t>(config.events.max_rows);
    options.retention.uploads_expected = false;
    auto opened = store::EventWriter::open(config.state_dir, options);
    if (opened.ok()) {
      writer = std::move(*opened);
    } else {
      // Events wait in memory (bounded) until a writer is attached; the proxy keeps serving.
      log::warn("inspect.store_unavailable",
                {{"error", opened.error()}, {"message", log::Safe{opened.error().message}}});
    }
  }
  std::shared_ptr<InspectionEngine> engine(
      new InspectionEngine(metrics, std::make_unique<EventSink>(std::move(writer))));
  if (open_store) {
    auto blobs = store::RuleBlobStore::open(config.state_dir);
    if (blobs.ok()) engine->blob_store_ = std::move(*blobs);
  }
  Loaded loaded;
  // Compiling is slow: never on an event loop. At start nothing is served yet, so we wait.
  std::thread t([&] { loaded = engine->load(config, std::nullopt, nullptr, false); });
  t.join();
  engine->publish(config, std::move(loaded));
  return engine;
}

Status InspectionEngine::reload(const daemon::Config& config) {
  if (compiler_.joinable()) compiler_.join();  // one compile at a time
  std::optional<rules::ActiveBlob> active;
  bool mode_changed = false;
  {
    std::lock_guard lock(state_mu_);
    active = active_blob_;
    mode_changed = mode_ != config.mode;
  }
  auto current = snapshot_.load();
  compiler_ = std::thread([this, config, active, current, mode_changed] {
    Loaded loaded = load(config, active, current ? current->rules : nullptr, mode_changed);
    publish(config, std::move(loaded));
  });
  return {};
}

void InspectionEngine::wait_idle() {
  if (compiler_.joinable()) compiler_.join();
}

bool InspectionEngine::ready() const {
  auto s = snapshot_.load();
  return s && s->rules;
}

void InspectionEngine::write_status(json::JsonWriter& out) const {
  auto s = snapshot_.load();
  out.begin_object();
  // An expired blob keeps being enforced (DESIGN §3.3) and the gateway says it is stale.
  bool stale = s && s->rules && s->expires_at && *s->expires_at <= timefmt::now();
  out.field("state", !(s && s->rules) ? "unavailable" : stale ? "stale" : "active");
  if (s && s->expires_at) {
    out.field("expires_at", std::string_view(timefmt::format_rfc3339(*s->expires_at)));
  }
  out.field("source", s ? std::string_view(s->source) : std::string_view("none"));
  out.field("version", s ? s->version : 0);
  out.field("rules", s && s->rules ? s->rules->pack().rules.size() : 0);
  {
    std::lock_guard lock(state_mu_);
    out.field("mode", std::string_view(mode_));
    out.key("last_refusal");
    if (last_refusal_) {
      out.begin_object();
      out.field("code", std::string_view(last_refusal_->code));
      out.field("at", std::string_view(last_refusal_at_));
      out.end_object();
    } else {
      out.null();
    }
  }
  out.key("events").begin_object();
  out.field("submitted", sink_->submitted());
  out.field("dropped", sink_->dropped());
  out.field("queued", sink_->queued());
  out.field("store", sink_->writer() != nullptr);
  out.field("committed", sink_->writer() != nullptr ? sink_->writer()->counters().committed : 0);
  out.end_object();
  out.end_object();
}

void InspectionEngine::report(const ExchangeReport& r, std::vector<store::Event>&& events) {
  requests_inspected_->inc();
  bytes_scanned_->inc(r.bytes_scanned);
  inspect_seconds_->observe(r.seconds);
  if (r.request_seconds >= 0) {
    std::size_t i = 0;
    while (i + 1 < kBodySizeClasses.size() &&
           r.request_body_bytes > kBodySizeClasses[i].max_bytes) {
      ++i;
    }
    request_seconds_[i]->observe(r.request_seconds);
  }
  if (r.stream_blocked) streams_blocked_->inc();
  for (store::Event& e : events) {
    if (const rules::ReasonCode* rc = rules::find_reason_code(e.reason_code)) {
      std::size_t i = static_cast<std::size_t>(rc - rules::reason_codes().data());
      std::size_t a = e.action == store::Action::kBlock    ? 0
                      : e.action == store::Action::kRedact ? 1
                                                           : 2;
      if (i < decisions_.size()) decisions_[i][a]->inc();
    }
    if (!sink_->submit(std::move(e))) events_dropped_->inc();
  }
}

std::unique_ptr<daemon::RequestInspection> InspectionEngine::begin(const daemon::RouteInfo& route,
                                                                   const http::RequestHead& head) {
  auto snap = snapshot_.load();
  if (!snap) return nullptr;
  if (!snap->rules && !snap->policy.fail_closed) {
    fail_open_->inc();
    return nullptr;  // fail_mode open: forwarded uninspected (counted; logged at reload)
  }
  ExchangeFacts facts;
  auto setting = parse_dialect_setting(route.dialect_setting);
  facts.route = route_for(setting.ok() ? *setting : DialectSetting::kAuto, route.path);
  facts.method = head.method;
  facts.target = head.target;
  facts.upstream.assign(route.upstream);
  if (auto session = head.headers.get("Edgeward-Session")) facts.session_header.emplace(*session);
  facts.rule_version = snap->version;
  Route r = facts.route;
  auto x = std::make_unique<InspectedExchange>(*this, std::move(snap), std::move(facts));
  x->set_route(r);
  return x;
}

}  // namespace edgeward::inspect

namespace edgeward::daemon {

Result<std::shared_ptr<InspectionHook>> make_inspection_hook(const Config& config,
                                                             MetricsRegistry& metrics) {
  auto engine = inspect::InspectionEngine::create(config, metrics);
  if (!engine.ok()) return engine.error();
  return std::shared_ptr<InspectionHook>(std::move(*engine));
}

}  // namespace edgeward::daemon
