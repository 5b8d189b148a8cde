// bench_inspect: what inspecting one request costs, in CPU time, split into the three steps the
// hook runs (ExchangeInspector::inspect_request = extract_request + scan_request +
// decide_request), with the embedded precompiled default pack, next to memcpy of the same body.
//
//   build-*/bench/inspect/bench_inspect [--iterations N] [--repeats R] [--case TEXT]
//
// Bodies are generated deterministically (fixed word list, fixed PRNG seed, no downloads):
// OpenAI chat completions and Anthropic messages requests of about 2 KiB and 16 KiB, each with
// a system prompt, several user/assistant turns (one with a content-part array) and one tool
// definition with a JSON schema; prose without any sensitive token, so every request is allowed
// (the bench checks it); and `code 16KiB`, C source and a JSON build log whose escapes the rules
// also read decoded (code_body). The request carries the headers an SDK sends. Times are CPU
// time of this thread (CLOCK_THREAD_CPUTIME_ID), so they hold on a loaded machine; each figure
// is the median over R repeats of the mean over N requests.
//
// Columns: extract, scan, decide: the three steps of inspect_request; total: the three plus
// building the ExchangeInspector; hook: the whole exchange through the proxy's hook interface
// (InspectionEngine::begin … on_complete, with a buffered chat-completion answer inspected too:
// what bench/proxy's edgewardd+pack row pays on top of forwarding); response: that buffered
// answer's inspection alone (ExchangeInspector::inspect_response); memcpy: copying the body.
// Then streamed answers: 1 MiB of prose and of zero-width characters through a StreamInspector in
// SSE deltas (CPU ms for the whole stream, the most text held at once, memcpy of its SSE bytes).
// --case TEXT runs only the cases whose name contains TEXT (e.g. "proxy-bench", for a profile).
// Bodies are given as the proxy gives them: in a buffer with daemon::kBodyPadding bytes of
// capacity after them, so they are parsed in place.

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/metrics.hpp"
#include "core/net/http_message.hpp"
#include "daemon/config.hpp"
#include "daemon/inspect/exchange.hpp"
#include "daemon/inspect/hook.hpp"
#include "daemon/inspect/precompiled_pack.hpp"
#include "daemon/inspect/stream_inspector.hpp"
#include "daemon/inspect/surfaces.hpp"
#include "rules/engine.hpp"
#include "rules/pack.hpp"
#include "rules/scanner.hpp"

using namespace edgeward;
using namespace edgeward::inspect;

namespace {

constexpr const char* kWords[] = {
    "the",      "of",       "and",      "to",        "in",       "is",          "was",
    "that",     "for",      "it",       "with",      "as",       "on",          "be",
    "at",       "by",       "this",     "had",       "not",      "are",         "but",
    "from",     "or",       "have",     "an",        "they",     "which",       "one",
    "you",      "were",     "all",      "there",     "would",    "their",       "we",
    "been",     "has",      "when",     "who",       "will",     "more",        "no",
    "if",       "out",      "so",       "what",      "up",       "its",         "about",
    "into",     "than",     "them",     "can",       "only",     "other",       "new",
    "some",     "could",    "time",     "these",     "two",      "may",         "then",
    "do",       "first",    "any",      "my",        "now",      "such",        "like",
    "our",      "over",     "even",     "most",      "made",     "after",       "also",
    "many",     "before",   "must",     "through",   "back",     "years",       "where",
    "much",     "your",     "way",      "well",      "down",     "should",      "because",
    "each",     "just",     "those",    "people",    "how",      "too",         "little",
    "state",    "good",     "very",     "make",      "world",    "still",       "own",
    "see",      "work",     "long",     "get",       "here",     "between",     "both",
    "report",   "meeting",  "customer", "quarterly", "budget",   "engineering", "product",
    "summary",  "please",   "review",   "draft",     "proposal", "schedule",    "service",
    "question", "answer",   "explain",  "thanks",    "release",  "latency",     "cache",
    "database", "function", "request",  "response",  "team",     "roadmap",     "migration"};
constexpr std::size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

// Prose of about `bytes` bytes: sentences of 8-20 words, capitalized, some commas.
std::string prose(std::mt19937& rng, std::size_t bytes) {
  std::string out;
  std::uniform_int_distribution<std::size_t> word(0, kWordCount - 1);
  std::uniform_int_distribution<int> len(8, 20);
  while (out.size() < bytes) {
    int n = len(rng);
    for (int i = 0; i < n; ++i) {
      std::string w = kWords[word(rng)];
      if (i == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
      out += w;
      out += i + 1 == n ? ". " : (i % 7 == 6 ? ", " : " ");
    }
  }
  out.resize(bytes);
  return out;
}

constexpr const char* kSchema =
    R"({"type":"object","properties":{"query":{"type":"string","description":"What to look up in the internal knowledge base"},"limit":{"type":"integer","description":"How many results to return"}},"required":["query"]})";

// Shares of the text budget: system, user, assistant, user (parts), assistant, user.
constexpr double kShares[] = {0.10, 0.25, 0.20, 0.15, 0.15, 0.15};

std::vector<std::string> turns(std::mt19937& rng, std::size_t text_bytes) {
  std::vector<std::string> t;
  for (double s : kShares) t.push_back(prose(rng, static_cast<std::size_t>(s * text_bytes)));
  return t;
}

std::string json_quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string openai_body(std::mt19937& rng, std::size_t text_bytes) {
  auto t = turns(rng, text_bytes);
  std::string b = R"({"model":"gpt-4o-mini","messages":[)";
  b += R"({"role":"system","content":)" + json_quoted(t[0]) + "},";
  b += R"({"role":"user","content":)" + json_quoted(t[1]) + "},";
  b += R"({"role":"assistant","content":)" + json_quoted(t[2]) + "},";
  b += R"({"role":"user","content":[{"type":"text","text":)" + json_quoted(t[3]) + "}]},";
  b += R"({"role":"assistant","content":)" + json_quoted(t[4]) + "},";
  b += R"({"role":"user","content":)" + json_quoted(t[5]) + "}],";
  b +=
      R"("tools":[{"type":"function","function":{"name":"lookup","description":"Searches the knowledge base and returns matching passages","parameters":)";
  b += kSchema;
  b += R"(}}],"max_tokens":512,"temperature":0.2,"stream":false})";
  return b;
}

std::string anthropic_body(std::mt19937& rng, std::size_t text_bytes) {
  auto t = turns(rng, text_bytes);
  std::string b = R"({"model":"claude-sonnet-4-5","max_tokens":1024,"system":)" + json_quoted(t[0]);
  b += R"(,"messages":[)";
  b += R"({"role":"user","content":)" + json_quoted(t[1]) + "},";
  b += R"({"role":"assistant","content":)" + json_quoted(t[2]) + "},";
  b += R"({"role":"user","content":[{"type":"text","text":)" + json_quoted(t[3]) + "}]},";
  b += R"({"role":"assistant","content":)" + json_quoted(t[4]) + "},";
  b += R"({"role":"user","content":)" + json_quoted(t[5]) + "}],";
  b +=
      R"("tools":[{"name":"lookup","description":"Searches the knowledge base and returns matching passages","input_schema":)";
  b += kSchema;
  b += "}]}";
  return b;
}

// The body bench/proxy/post.lua sends (one system line, one long user message of repeated
// words), so this bench and bench/proxy measure the same request.
std::string proxy_bench_body(std::size_t size) {
  static constexpr const char* kTicket[] = {
      "please",   "summarise", "the",     "following", "ticket", "about", "a",   "slow", "build",
      "pipeline", "and",       "suggest", "next",      "steps",  "for",   "our", "team", "today"};
  std::string prefix =
      R"({"model":"gpt-4o-mini","stream":false,"messages":[{"role":"system","content":"You are a concise assistant for an internal support team."},{"role":"user","content":")";
  std::string suffix = R"("}]})";
  std::string filler;
  std::size_t want =
      size > prefix.size() + suffix.size() ? size - prefix.size() - suffix.size() : 0;
  for (std::size_t i = 0; filler.size() < want; ++i) {
    filler += kTicket[i % (sizeof(kTicket) / sizeof(kTicket[0]))];
    filler += ' ';
  }
  filler.resize(want);
  return prefix + filler + suffix;
}

// A coding request: C source pasted into the user message and a tool result that is JSON text
// of a log, so its texts hold escapes written out (a C string's `\n`; the log's line breaks,
// `\n` inside the tool's JSON), which the rules also read decoded (rules/json_escapes.hpp): the
// cost of that second reading.
std::string code_body(std::size_t size) {
  static constexpr const char* kLines[] = {
      "static int report(FILE* f, const char* name, int n) {\n",
      "  if (n < 0) { fprintf(stderr, \"bad count for %s\\n\", name); return -1; }\n",
      "  fprintf(f, \"%s\\t%d\\n\", name, n);\n",
      "  const char* sep = strchr(name, '\\\\') ? \"\\\\\" : \"/\";\n",
      "  return fputs(\"done\\r\\n\", f) < 0 ? -1 : 0;\n",
      "}\n"};
  std::string code;
  for (std::size_t i = 0; code.size() < size * 3 / 4; ++i) {
    code += kLines[i % (sizeof(kLines) / sizeof(kLines[0]))];
  }
  std::string log = R"({"job":"build","status":"failed","lines":")";
  while (log.size() < size / 8)
    log += R"(cc -O2 -c report.c\nreport.c:12: warning: unused variable\n)";
  log += R"("})";
  std::string b =
      R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You review C code."},)";
  b += R"({"role":"user","content":)";
  json::append_json_string(b, code);
  b += R"(},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
       R"("function":{"name":"build_log","arguments":"{}"}}]},)"
       R"({"role":"tool","tool_call_id":"c1","content":)";
  json::append_json_string(b, log);
  b += "}]}";
  return b;
}

// A body of exactly `target` bytes: the prose budget is adjusted until it fits.
template <typename Make>
std::string sized_body(Make make, std::size_t target) {
  std::size_t text = target;
  for (int i = 0; i < 8; ++i) {
    std::mt19937 rng(20260501);
    std::string b = make(rng, text);
    if (b.size() == target) return b;
    text = text + target - b.size();
  }
  std::mt19937 rng(20260501);
  return make(rng, text);
}

http::Headers sdk_headers(bool anthropic) {
  http::Headers h;
  h.add("Host", "127.0.0.1:8080");
  h.add("Content-Type", "application/json");
  h.add("Accept", "application/json");
  h.add("User-Agent", anthropic ? "Anthropic/JS 0.39.0" : "OpenAI/JS 4.77.0");
  h.add("X-Stainless-Lang", "js");
  h.add("X-Stainless-Package-Version", anthropic ? "0.39.0" : "4.77.0");
  h.add("X-Stainless-OS", "Linux");
  h.add("X-Stainless-Arch", "x64");
  h.add("X-Stainless-Runtime", "node");
  h.add("X-Stainless-Runtime-Version", "v20.11.1");
  h.add("X-Stainless-Retry-Count", "0");
  h.add("Accept-Encoding", "gzip, deflate");
  if (anthropic) {
    h.add("x-api-key", "sk-ant-api03-bench");
    h.add("anthropic-version", "2023-06-01");
  } else {
    h.add("Authorization", "Bearer sk-bench");
  }
  return h;
}

double cpu_now_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Figures {
  double extract = 0, scan = 0, decide = 0, total = 0, memcpy_us = 0, hook = 0, response = 0;
  std::size_t findings = 0;
  bool allowed = true;
};

// A chat completion answer as the mock upstream gives it (the response the hook inspects in
// bench/proxy).
constexpr const char* kResponse =
    R"({"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Here is a short summary of the ticket and the next steps for the team."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":16,"total_tokens":28}})";

// The whole exchange as the proxy drives the hook: begin, decide_request, response head,
// decide_response (a buffered JSON answer), on_complete (metrics, events).
// `s` in a buffer with the proxy's padding after it (see the header comment).
std::string padded(std::string_view s) {
  std::string out;
  out.reserve(s.size() + daemon::kBodyPadding);
  out.assign(s);
  return out;
}

double hook_exchange(InspectionEngine& engine, std::string_view path, const http::Headers& headers,
                     const std::string& body) {
  static const std::string response = padded(kResponse);
  http::RequestHead head;
  head.method = "POST";
  head.target = std::string(path);
  head.headers = headers;
  daemon::RouteInfo route;
  route.upstream = "bench";
  route.dialect_setting = "auto";
  route.path = path;
  double a = cpu_now_us();
  auto x = engine.begin(route, head);
  auto v = x->decide_request(head, body, body.capacity() - body.size());
  http::ResponseHead rh;
  rh.status = 200;
  rh.headers.add("Content-Type", "application/json");
  x->on_response_head(rh);
  auto r = x->decide_response(response, response.capacity() - response.size());
  x->on_complete(200);
  x.reset();
  double b = cpu_now_us();
  if (v.kind != daemon::RequestVerdict::Kind::allow ||
      r.kind != daemon::ResponseVerdict::Kind::allow) {
    return -1;
  }
  return b - a;
}

Figures measure(const std::shared_ptr<const rules::CompiledRules>& compiled,
                rules::Scanner& scanner, InspectionEngine& engine, Route route,
                std::string_view target, const http::Headers& headers, const std::string& body,
                int iterations, int repeats) {
  std::vector<double> ex, sc, de, to, mc, hk, rs;
  Figures f;
  std::string copy(body.size(), '\0');
  volatile char sink = 0;
  for (int r = 0; r < repeats; ++r) {
    double e = 0, s = 0, d = 0;
    double t0 = cpu_now_us();
    for (int i = 0; i < iterations; ++i) {
      ExchangeFacts facts;
      facts.route = route;
      facts.method = "POST";
      facts.target = std::string(target);
      facts.upstream = "bench";
      ExchangeInspector x(compiled, scanner, InspectionPolicy{}, std::move(facts));
      double a = cpu_now_us();
      ExtractedBody extracted = extract_request(route, body, body.capacity() - body.size());
      double b = cpu_now_us();
      auto found = x.scan_request(extracted, headers, target, body.size());
      double c = cpu_now_us();
      f.findings = found.size();
      RequestDecision dec = x.decide_request(extracted, std::move(found), body);
      double z = cpu_now_us();
      f.allowed = f.allowed && dec.kind == RequestDecision::Kind::allow;
      e += b - a;
      s += c - b;
      d += z - c;
    }
    double t1 = cpu_now_us();
    ex.push_back(e / iterations);
    sc.push_back(s / iterations);
    de.push_back(d / iterations);
    to.push_back((t1 - t0) / iterations);
    double m0 = cpu_now_us();
    for (int i = 0; i < iterations * 10; ++i) {
      std::memcpy(copy.data(), body.data(), body.size());
      sink = sink + copy[static_cast<std::size_t>(i) % copy.size()];
    }
    mc.push_back((cpu_now_us() - m0) / (iterations * 10));
    double h = 0;
    for (int i = 0; i < iterations; ++i) {
      double one = hook_exchange(engine, target, headers, body);
      if (one < 0) f.allowed = false;
      h += one;
    }
    hk.push_back(h / iterations);
    // The buffered answer alone (extract_response + scan + decision), one exchange each.
    static const std::string answer = padded(kResponse);
    double rsum = 0;
    for (int i = 0; i < iterations; ++i) {
      ExchangeFacts facts;
      facts.route = route;
      ExchangeInspector x(compiled, scanner, InspectionPolicy{}, std::move(facts));
      double a = cpu_now_us();
      ResponseDecision dec = x.inspect_response(answer, answer.capacity() - answer.size());
      rsum += cpu_now_us() - a;
      f.allowed = f.allowed && dec.kind == ResponseDecision::Kind::allow;
    }
    rs.push_back(rsum / iterations);
  }
  (void)sink;
  f.extract = median(ex);
  f.scan = median(sc);
  f.decide = median(de);
  f.total = median(to);
  f.memcpy_us = median(mc);
  f.hook = median(hk);
  f.response = median(rs);
  return f;
}

// One SSE chunk of an OpenAI chat-completion stream carrying `text` as the delta's content.
std::string sse_delta(std::string_view text) {
  std::string data =
      R"({"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":)";
  json::append_json_string(data, text);
  data += R"(},"finish_reason":null}]})";
  return "data: " + data + "\n\n";
}

struct StreamFigures {
  double ms = 0;         // CPU ms to inspect the whole stream
  double memcpy_ms = 0;  // copying its SSE bytes once
  std::size_t held = 0;  // the most text the inspector held at once
  bool passed = false;   // forwarded to the end (not blocked)
};

// Streams `text` through a StreamInspector in SSE deltas of about `per` bytes (cut on code point
// boundaries), as the proxy feeds an upstream's chunks.
StreamFigures stream_figures(const std::shared_ptr<const rules::CompiledRules>& compiled,
                             rules::Scanner& scanner, const std::string& text, std::size_t per) {
  std::vector<std::string> chunks;
  std::size_t sse_bytes = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t end = std::min(text.size(), pos + per);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    chunks.push_back(sse_delta(std::string_view(text).substr(pos, end - pos)));
    sse_bytes += chunks.back().size();
    pos = end;
  }
  const Route route{Dialect::kOpenAI, Endpoint::kChatCompletions};
  ExchangeFacts facts;
  facts.route = route;
  facts.method = "POST";
  facts.target = "/v1/chat/completions";
  facts.upstream = "bench";
  EventRecorder events(facts);
  StreamFigures f;
  double a = cpu_now_us();
  StreamInspector inspector(compiled, scanner, route, StreamFormat::kSse, 128, events);
  std::string out;
  bool ended = false;
  for (const std::string& c : chunks) {
    out.clear();
    if (inspector.feed(c, out) == StreamStep::kEnd) {
      ended = true;
      break;
    }
    f.held = std::max<std::size_t>(f.held, inspector.held_bytes());
  }
  out.clear();
  if (!ended) ended = inspector.finish(out) == StreamStep::kEnd;
  double b = cpu_now_us();
  f.ms = (b - a) / 1000;
  f.passed = !ended;
  std::string copy(sse_bytes, '\0');
  volatile char sink = 0;
  double m0 = cpu_now_us();
  std::size_t at = 0;
  for (const std::string& c : chunks) {
    std::memcpy(copy.data() + at, c.data(), c.size());
    at += c.size();
  }
  sink = sink + copy[copy.size() / 2];
  f.memcpy_ms = (cpu_now_us() - m0) / 1000;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 2000;
  int repeats = 7;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--iterations") == 0) iterations = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--repeats") == 0) repeats = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--case") == 0) only = argv[i + 1];
  }
  if (iterations <= 0 || repeats <= 0) {
    std::fprintf(stderr, "usage: bench_inspect [--iterations N] [--repeats R] [--case TEXT]\n");
    return 2;
  }
  auto pack = rules::parse_pack(rules::default_pack_yaml(), "<embedded>");
  if (!pack.ok()) {
    std::fprintf(stderr, "default pack: %s\n", pack.error().message.c_str());
    return 1;
  }
  auto compiled = rules::load_compiled_rules(*pack, precompiled_default_pack());
  if (!compiled.ok()) {
    // Another CPU than the build host: compile (slow, but the figures stay comparable).
    std::fprintf(stderr, "precompiled pack refused (%s): compiling\n",
                 compiled.error().code.c_str());
    compiled = rules::compile_rules(std::move(*pack));
    if (!compiled.ok()) {
      std::fprintf(stderr, "compile: %s\n", compiled.error().message.c_str());
      return 1;
    }
  }
  rules::Scanner scanner;
  MetricsRegistry metrics;
  daemon::Config config;  // the embedded default pack, no store (events stay queued)
  config.state_dir = "/nonexistent";
  auto engine = InspectionEngine::create(config, metrics, /*open_store=*/false);
  if (!engine.ok()) {
    std::fprintf(stderr, "engine: %s\n", engine.error().message.c_str());
    return 1;
  }

  struct Case {
    const char* name;
    Route route;
    const char* target;
    bool anthropic;
    std::size_t size;
    bool proxy_shape = false;  // bench/proxy's body instead of a multi-turn chat
    bool code = false;         // code_body instead
  };
  const Case cases[] = {
      {"openai 2KiB",
       {Dialect::kOpenAI, Endpoint::kChatCompletions},
       "/v1/chat/completions",
       false,
       2048},
      {"openai 16KiB",
       {Dialect::kOpenAI, Endpoint::kChatCompletions},
       "/v1/chat/completions",
       false,
       16384},
      {"anthropic 2KiB", {Dialect::kAnthropic, Endpoint::kMessages}, "/v1/messages", true, 2048},
      {"anthropic 16KiB", {Dialect::kAnthropic, Endpoint::kMessages}, "/v1/messages", true, 16384},
      {"proxy-bench 16KiB",
       {Dialect::kOpenAI, Endpoint::kChatCompletions},
       "/v1/chat/completions",
       false,
       16384,
       true},
      {"code 16KiB",
       {Dialect::kOpenAI, Endpoint::kChatCompletions},
       "/v1/chat/completions",
       false,
       16384,
       false,
       true},
  };
  int status = 0;
  bool request_header = false;
  for (const Case& c : cases) {
    if (std::string_view(c.name).find(only) == std::string_view::npos) continue;
    if (!request_header) {
      std::printf("CPU time per request, us (median of %d x %d requests)\n", repeats, iterations);
      std::printf("%-18s %7s %8s %8s %8s %8s %8s %8s %8s\n", "case", "bytes", "extract", "scan",
                  "decide", "total", "hook", "response", "memcpy");
      request_header = true;
    }
    const std::string body = padded(c.code          ? code_body(c.size)
                                    : c.proxy_shape ? proxy_bench_body(c.size)
                                    : c.anthropic   ? sized_body(anthropic_body, c.size)
                                                    : sized_body(openai_body, c.size));
    http::Headers headers = sdk_headers(c.anthropic);
    Figures f = measure(*compiled, scanner, **engine, c.route, c.target, headers, body, iterations,
                        repeats);
    std::printf("%-18s %7zu %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.3f\n", c.name, body.size(),
                f.extract, f.scan, f.decide, f.total, f.hook, f.response, f.memcpy_us);
    if (!f.allowed || f.findings != 0) {
      std::fprintf(stderr, "%s: expected an allowed request without findings, got %zu\n", c.name,
                   f.findings);
      status = 1;
    }
  }
  // Streamed answers: a whole 1 MiB answer, CPU time of the stream inspector (what the proxy pays
  // per streamed response on top of forwarding), and the most text it held at once. A bounded
  // pattern matches the zero-width flood at every position (docs/inspection.md, "Runs a pattern
  // matches at every position"): linear, and holding at most the widest finding.
  std::string zero_width;
  while (zero_width.size() < (1u << 20)) zero_width += "\u200b";
  std::mt19937 stream_rng(7);
  const struct {
    const char* name;
    std::string text;
    std::size_t per;
  } streams[] = {
      {"stream prose", prose(stream_rng, 1u << 20), 60},
      {"stream zero-width", zero_width, 60},
      {"stream zero-width", zero_width, 3},
  };
  bool header = false;
  for (const auto& c : streams) {
    if (std::string_view(c.name).find(only) == std::string_view::npos) continue;
    if (!header) {
      std::printf("\nStreamed answers, 1 MiB of text each, CPU ms (one run)\n");
      std::printf("%-18s %7s %8s %8s %8s\n", "case", "delta", "inspect", "held", "memcpy");
      header = true;
    }
    StreamFigures f = stream_figures(*compiled, scanner, c.text, c.per);
    std::printf("%-18s %7zu %8.1f %8zu %8.3f\n", c.name, c.per, f.ms, f.held, f.memcpy_ms);
    if (!f.passed) {
      std::fprintf(stderr, "%s: the stream ended as blocked\n", c.name);
      status = 1;
    }
  }
  return status;
}
