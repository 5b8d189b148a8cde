// `edgeward events list|tail|show|export|stats` (DESIGN §6): reads the event store directly,
// read-only, so that it works while edgewardd writes and when it is stopped.
//
// Output: human tables by default, `--json` for data (list/show/stats: one JSON document; tail:
// one JSON object per line), `export --format ndjson` for everything. Errors go to stderr as
// "edgeward events: <message>" with exit code 2.

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/command.hpp"
#include "cli/table.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "core/units.hpp"
#include "store/event_json.hpp"
#include "store/event_query.hpp"

namespace edgeward::cli {

namespace {

constexpr const char* kUsage =
    "usage: edgeward events <list|tail|show|export|stats> [options]\n"
    "\n"
    "  list   [--severity S[,S…]] [--reason PREFIX] [--since 1h|RFC3339] [--until …]\n"
    "         [--limit N] [--json]      newest first; --limit defaults to 50\n"
    "  tail   [--severity S] [--reason PREFIX] [--limit N] [--interval 500ms] [--json]\n"
    "         prints the last N (default 10) events, then follows new ones until Ctrl-C\n"
    "  show   UID|REQUEST_ID [--json]   one event (evt_…) or every event of a request (req_…)\n"
    "  export --format ndjson [--since …] [--until …] [--severity S] [--reason PREFIX]\n"
    "         every matching event, oldest first, one JSON object per line\n"
    "  stats  [--since 24h|RFC3339] [--until …] [--severity S] [--reason PREFIX] [--json]\n"
    "         counts by reason code and severity over the window\n"
    "\n"
    "  Every subcommand takes --state-dir DIR (default /var/lib/edgeward).\n"
    "  Severities: critical, high, medium, low, info. --since/--until take a duration before\n"
    "  now (30m, 1h, 7d) or an RFC 3339 time; the window is since <= occurred_at < until.\n";

constexpr std::int64_t kDefaultListLimit = 50;
constexpr std::int64_t kDefaultTailBacklog = 10;
constexpr std::int64_t kPageSize = 5000;

// A bad command line: printed as "edgeward events: <message>", exit 2.
struct UsageError {
  std::string message;
};

struct Options {
  std::string sub;
  std::filesystem::path state_dir = "/var/lib/edgeward";
  bool json = false;
  store::EventFilter filter;
  bool limit_given = false;
  bool since_given = false;
  std::string format;
  std::chrono::milliseconds interval{500};
  std::vector<std::string> positional;
};

Result<timefmt::TimePoint> parse_time_bound(const std::string& flag, const std::string& text,
                                            timefmt::TimePoint now) {
  if (auto d = units::parse_duration(text); d.ok()) return now - *d;
  if (auto t = timefmt::parse_rfc3339(text); t.ok()) return *t;
  return make_error("cli.bad_time", "bad " + flag + " '" + text +
                                        "': expected a duration before now (30m, 1h, 7d) or an "
                                        "RFC 3339 time (2026-11-23T00:00:00Z)");
}

Result<std::vector<store::Severity>> parse_severities(const std::string& text) {
  std::vector<store::Severity> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    std::string word =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto s = store::parse_severity(word);
    if (!s) {
      return make_error("cli.bad_severity",
                        "bad --severity '" + text +
                            "': expected critical, high, medium, low or info (comma-separated "
                            "for several)");
    }
    if (std::find(out.begin(), out.end(), *s) == out.end()) out.push_back(*s);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::string> parse_reason_prefix(const std::string& text) {
  std::string upper;
  for (unsigned char c : text) upper += static_cast<char>(std::toupper(c));
  const bool ok = !upper.empty() && std::all_of(upper.begin(), upper.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
  if (!ok) {
    return make_error("cli.bad_reason",
                      "bad --reason '" + text +
                          "': expected a reason code prefix of letters, digits, '_' and '.' "
                          "(e.g. DLP.PII)");
  }
  return upper;
}

Result<std::int64_t> parse_limit(const std::string& text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v <= 0) {
    return make_error("cli.bad_limit", "bad --limit '" + text + "': expected a positive integer");
  }
  return v;
}

// Stores `r`'s value in `out`, or returns its error (for the flag table below).
template <class T>
Status assign(Result<T> r, T& out) {
  if (!r) return r.error();
  out = std::move(*r);
  return ok_status();
}

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  if (args.empty()) throw UsageError{"missing subcommand (list, tail, show, export, stats)"};
  o.sub = args[0];
  const auto now = timefmt::now();
  std::string until_text, since_text;
  using Kind = FlagSpec::Kind;
  const std::vector<FlagSpec> flags = {
      switch_flag("--json", o.json),
      value_flag("--state-dir", o.state_dir),
      {"--severity", Kind::kValue,
       [&](const std::string& v) { return assign(parse_severities(v), o.filter.severities); }},
      {"--reason", Kind::kValue,
       [&](const std::string& v) {
         return assign(parse_reason_prefix(v), o.filter.reason_prefix);
       }},
      {"--since", Kind::kValue,
       [&](const std::string& v) {
         since_text = v;
         o.since_given = true;
         timefmt::TimePoint t;
         if (auto st = assign(parse_time_bound("--since", v, now), t); !st) return st;
         o.filter.since = t;
         return ok_status();
       }},
      {"--until", Kind::kValue,
       [&](const std::string& v) {
         until_text = v;
         timefmt::TimePoint t;
         if (auto st = assign(parse_time_bound("--until", v, now), t); !st) return st;
         o.filter.until = t;
         return ok_status();
       }},
      {"--limit", Kind::kValue,
       [&](const std::string& v) {
         o.limit_given = true;
         return assign(parse_limit(v), o.filter.limit);
       }},
      value_flag("--format", o.format),
      positive_duration_flag("--interval", o.interval),
  };
  auto parsed = read_args(args, 1, flags, /*positional_allowed=*/true);
  if (!parsed) throw UsageError{parsed.error().message};
  if (parsed->help) throw UsageError{""};
  o.positional = std::move(parsed->positional);
  if (o.filter.since && o.filter.until && *o.filter.since >= *o.filter.until) {
    throw UsageError{"--since " + since_text + " is not before --until " + until_text};
  }
  return o;
}

store::EventQuery open_store(const Options& o) {
  auto q = store::EventQuery::open(o.state_dir);
  if (!q) throw UsageError{q.error().message};
  return std::move(*q);
}

template <class T>
T need(Result<T> r) {
  if (!r) throw UsageError{r.error().message};
  return std::move(*r);
}

std::string where(const store::Event& e) {
  return std::string(store::to_string(e.scope)) + "/" + std::string(store::to_string(e.matched_in));
}

std::vector<std::string> row(const store::Event& e) {
  return {timefmt::format_rfc3339(e.occurred_at),
          std::string(store::to_string(e.severity)),
          e.reason_code,
          std::string(store::to_string(e.action)),
          where(e),
          std::string(store::to_string(e.layer)),
          e.request_method,
          e.model.empty() ? "-" : e.model,
          e.upstream.empty() ? "-" : e.upstream,
          e.uid};
}

const std::vector<std::string> kListHeader = {"TIME",  "SEVERITY", "REASON", "ACTION",   "WHERE",
                                              "LAYER", "METHOD",   "MODEL",  "UPSTREAM", "UID"};

void write_json_array(const std::vector<store::Event>& events) {
  std::string out = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    out += i ? ",\n" : "\n";
    store::append_event_json(out, events[i]);
  }
  out += events.empty() ? "]\n" : "\n]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

int run_list(Options& o) {
  if (!o.limit_given) o.filter.limit = kDefaultListLimit;
  auto q = open_store(o);
  const auto events = need(q.list(o.filter));
  if (o.json) {
    write_json_array(events);
    return 0;
  }
  if (events.empty()) {
    std::fprintf(stderr, "no events match\n");
    return 0;
  }
  AlignedTable t(kListHeader);
  for (const auto& e : events) t.add_row(row(e));
  t.print(stdout);
  return 0;
}

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) {
  g_stop = 1;
}

// Sleeps up to `d`, returning early when SIGINT/SIGTERM arrived.
void sleep_unless_stopped(std::chrono::milliseconds d) {
  const auto step = std::chrono::milliseconds(50);
  while (!g_stop && d.count() > 0) {
    const auto s = std::min(d, step);
    timespec ts{static_cast<time_t>(s.count() / 1000),
                static_cast<long>((s.count() % 1000) * 1000000)};
    nanosleep(&ts, nullptr);
    d -= s;
  }
}

void print_tail_rows(const std::vector<store::Event>& events, bool json) {
  std::string out;
  for (const auto& e : events) {
    if (json) {
      store::append_event_json(out, e);
      out += '\n';
    } else {
      // Fixed widths: rows arrive over time, so the table cannot be measured in advance.
      const auto r = row(e);
      char line[512];
      std::snprintf(line, sizeof line,
                    "%-24s  %-8s  %-32s  %-7s  %-16s  %-13s  %-6s  %-20s  %-10s  %s\n",
                    r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].c_str(),
                    r[5].c_str(), r[6].c_str(), r[7].c_str(), r[8].c_str(), r[9].c_str());
      out += line;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

int run_tail(Options& o) {
  auto q = open_store(o);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // The backlog: the last N matching events, printed oldest first. Following starts after the
  // newest of them, or after the largest id seen before listing when none matched (so that a
  // row committed in between is printed once, by the follow loop).
  const std::int64_t before = need(q.max_id());
  store::EventFilter backlog_filter = o.filter;
  backlog_filter.limit = o.limit_given ? o.filter.limit : kDefaultTailBacklog;
  auto backlog = need(q.list(backlog_filter));
  std::reverse(backlog.begin(), backlog.end());
  std::int64_t last = before;
  for (const auto& e : backlog) last = std::max(last, e.id);
  if (!o.json) {
    std::printf("%-24s  %-8s  %-32s  %-7s  %-16s  %-13s  %-6s  %-20s  %-10s  %s\n", "TIME",
                "SEVERITY", "REASON", "ACTION", "WHERE", "LAYER", "METHOD", "MODEL", "UPSTREAM",
                "UID");
  }
  print_tail_rows(backlog, o.json);

  store::EventFilter follow = o.filter;
  follow.limit = kPageSize;
  while (!g_stop) {
    auto rows = q.after(last, follow);
    if (!rows) {
      // The daemon may be mid-checkpoint or restarting: say so once per failure and keep going.
      std::fprintf(stderr, "edgeward events: %s (retrying)\n", rows.error().message.c_str());
      sleep_unless_stopped(o.interval);
      continue;
    }
    if (!rows->empty()) {
      last = rows->back().id;
      print_tail_rows(*rows, o.json);
      if (static_cast<std::int64_t>(rows->size()) == kPageSize) continue;
    }
    sleep_unless_stopped(o.interval);
  }
  return 0;
}

void print_vertical(const store::Event& e) {
  AlignedTable t({"FIELD", "VALUE"});
  t.add_row({"id", std::to_string(e.id)});
  t.add_row({"uid", e.uid});
  t.add_row({"request_id", e.request_id});
  t.add_row({"occurred_at", timefmt::format_rfc3339(e.occurred_at)});
  t.add_row({"reason_code", e.reason_code});
  t.add_row({"severity", std::string(store::to_string(e.severity))});
  t.add_row({"action", std::string(store::to_string(e.action))});
  t.add_row({"retry", e.retry ? "true" : "false"});
  t.add_row({"scope", std::string(store::to_string(e.scope))});
  t.add_row({"matched_in", std::string(store::to_string(e.matched_in))});
  t.add_row({"layer", std::string(store::to_string(e.layer))});
  t.add_row({"rule_id", e.rule_id});
  t.add_row({"rule_version", std::to_string(e.rule_version)});
  t.add_row({"request_method", e.request_method});
  t.add_row({"path_hash", e.path_hash});
  t.add_row({"model", e.model.empty() ? "-" : e.model});
  t.add_row({"upstream", e.upstream.empty() ? "-" : e.upstream});
  t.add_row({"session", e.session ? *e.session : "-"});
  t.add_row({"agent_id", e.agent_id ? *e.agent_id : "- (not enrolled)"});
  t.add_row({"uploaded", e.uploaded ? "yes" : "no"});
  t.print(stdout, false);
}

int run_show(Options& o) {
  if (o.positional.size() != 1) {
    throw UsageError{"events show needs one event uid (evt_…) or request id (req_…)"};
  }
  const std::string& id = o.positional[0];
  const bool is_event = id.rfind("evt_", 0) == 0;
  const bool is_request = id.rfind("req_", 0) == 0;
  if (!is_event && !is_request) {
    throw UsageError{"'" + id + "' is not an event uid (evt_…) or a request id (req_…)"};
  }
  auto q = open_store(o);
  std::vector<store::Event> events;
  if (is_event) {
    auto e = need(q.find_uid(id));
    if (e) events.push_back(std::move(*e));
  } else {
    events = need(q.find_request(id));
  }
  if (events.empty())
    throw UsageError{"no event with " + std::string(is_event ? "uid " : "request id ") + id};
  if (o.json) {
    if (is_event) {
      std::string out = store::event_json(events.front());
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
    } else {
      write_json_array(events);
    }
    return 0;
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) std::printf("\n");
    print_vertical(events[i]);
  }
  return 0;
}

int run_export(Options& o) {
  if (o.format.empty()) o.format = "ndjson";
  if (o.format != "ndjson") {
    throw UsageError{"unsupported --format '" + o.format + "': the only format is ndjson"};
  }
  auto q = open_store(o);
  const std::int64_t total_limit = o.limit_given ? o.filter.limit : 0;
  std::int64_t written = 0;
  std::int64_t last = 0;
  store::EventFilter page = o.filter;
  std::string out;
  for (;;) {
    page.limit = total_limit > 0 ? std::min(kPageSize, total_limit - written) : kPageSize;
    if (page.limit <= 0) break;
    const auto rows = need(q.after(last, page));
    out.clear();
    for (const auto& e : rows) {
      store::append_event_json(out, e);
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    written += static_cast<std::int64_t>(rows.size());
    if (static_cast<std::int64_t>(rows.size()) < page.limit) break;
    last = rows.back().id;
  }
  return 0;
}

int run_stats(Options& o) {
  const auto now = timefmt::now();
  if (!o.since_given) o.filter.since = now - std::chrono::hours(24);
  if (o.filter.until && *o.filter.since >= *o.filter.until) {
    throw UsageError{"--until is not after the default --since (24h ago)"};
  }
  auto q = open_store(o);
  const auto counts = need(q.stats(o.filter));
  std::int64_t total = 0;
  std::map<store::Severity, std::int64_t> by_severity;
  for (const auto& c : counts) {
    total += c.count;
    by_severity[c.severity] += c.count;
  }
  const store::Severity order[] = {store::Severity::kCritical, store::Severity::kHigh,
                                   store::Severity::kMedium, store::Severity::kLow,
                                   store::Severity::kInfo};
  const std::string since = timefmt::format_rfc3339(*o.filter.since);
  const std::string until = o.filter.until ? timefmt::format_rfc3339(*o.filter.until) : "";
  if (o.json) {
    json::JsonWriter w;
    w.begin_object();
    w.field("since", since);
    w.key("until");
    if (o.filter.until) {
      w.string(until);
    } else {
      w.null();
    }
    w.field("total", total);
    w.key("by_severity").begin_object();
    for (auto s : order) w.field(store::to_string(s), by_severity[s]);
    w.end_object();
    w.key("by_reason").begin_array();
    for (const auto& c : counts) {
      w.begin_object()
          .field("reason_code", c.reason_code)
          .field("severity", store::to_string(c.severity))
          .field("count", c.count)
          .field("first", timefmt::format_rfc3339(c.first))
          .field("last", timefmt::format_rfc3339(c.last))
          .end_object();
    }
    w.end_array().end_object();
    std::string out = w.take();
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  std::printf("window: %s .. %s\n", since.c_str(), o.filter.until ? until.c_str() : "now");
  std::printf("total:  %lld events\n", static_cast<long long>(total));
  std::string sev_line = "by severity:";
  for (auto s : order) {
    sev_line += " " + std::string(store::to_string(s)) + " " + std::to_string(by_severity[s]);
  }
  std::printf("%s\n", sev_line.c_str());
  if (counts.empty()) return 0;
  std::printf("\n");
  AlignedTable t({"REASON", "SEVERITY", "COUNT", "FIRST", "LAST"});
  for (const auto& c : counts) {
    t.add_row({c.reason_code, std::string(store::to_string(c.severity)), std::to_string(c.count),
               timefmt::format_rfc3339(c.first), timefmt::format_rfc3339(c.last)});
  }
  t.print(stdout);
  return 0;
}

int run_events(const std::vector<std::string>& args) {
  try {
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    Options o = parse_options(args);
    if (o.sub != "show" && !o.positional.empty()) {
      throw UsageError{"unexpected argument '" + o.positional[0] + "'"};
    }
    if (o.sub == "list") return run_list(o);
    if (o.sub == "tail") return run_tail(o);
    if (o.sub == "show") return run_show(o);
    if (o.sub == "export") return run_export(o);
    if (o.sub == "stats") return run_stats(o);
    throw UsageError{"unknown subcommand '" + o.sub + "' (list, tail, show, export, stats)"};
  } catch (const UsageError& e) {
    if (e.message.empty()) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "edgeward events: %s\n", e.message.c_str());
    return 2;
  }
}

const CommandRegistration kRegistration("events",
                                        "list, follow, show, export and count block events",
                                        run_events);

}  // namespace

}  // namespace edgeward::cli
