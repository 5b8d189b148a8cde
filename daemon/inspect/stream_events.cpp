#include "daemon/inspect/stream_events.hpp"

#include <simdjson.h>

#include <optional>

#include "daemon/inspect/json_scalar.hpp"

namespace edgeward::inspect {

namespace sj = simdjson::ondemand;

namespace {

// Responses API: (output_index, content_index) folded into one group number.
constexpr std::uint64_t kContentSlots = 1024;
// Reasoning text streams next to the answer; its own channel so the two never interleave.
constexpr std::uint64_t kReasoningPart = 1u << 20;
// OpenAI's legacy delta.function_call.arguments and delta.audio.transcript: parts of their own.
constexpr std::uint64_t kFunctionCallPart = kReasoningPart + 1;
constexpr std::uint64_t kAudioPart = kReasoningPart + 2;
// A refusal is not the answer's text: sharing its channel delivered refusal text inside
// `content` (a review's finding).
constexpr std::uint64_t kRefusalPart = kReasoningPart + 3;

struct Ctx {
  const char* base;
  StreamEventInfo& out;
};

bool string_delta(Ctx& c, sj::value& v, ChannelKey key, MatchedIn in, Layer layer) {
  sj::json_type t;
  if (v.type().get(t)) return false;
  if (t == sj::json_type::null) return true;
  if (t != sj::json_type::string) return false;
  std::string_view token = v.raw_json_token();
  std::string_view text;
  if (v.get_string().get(text)) return false;
  StreamDelta d;
  d.key = key;
  d.matched_in = in;
  d.layer = layer;
  d.span_begin = static_cast<std::size_t>(token.data() - c.base);
  d.span_end = d.span_begin + json_string_literal_length(token);
  d.text.assign(text);
  c.out.deltas.push_back(std::move(d));
  return true;
}

bool get_u64(sj::value& v, std::uint64_t& out) {
  return !v.get_uint64().get(out);
}

bool get_str(sj::value& v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return false;
  out.assign(s);
  return true;
}

// OpenAI delta.tool_calls[]: [{index, id, type, function:{name, arguments}}].
bool openai_tool_calls(Ctx& c, sj::value& v, std::uint64_t group) {
  sj::array a;
  if (v.get_array().get(a)) return false;
  std::uint64_t position = 0;
  for (auto e : a) {
    sj::object o;
    if (e.get_object().get(o)) return false;
    std::uint64_t index = position++;
    std::size_t first = c.out.deltas.size();
    std::size_t first_name = c.out.tool_name_parts.size();
    for (auto f : o) {
      sj::field field;
      std::string_view key;
      if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
      sj::value val = field.value();
      if (key == "index") {
        if (!get_u64(val, index)) return false;
      } else if (key == "function") {
        sj::object fn;
        if (val.get_object().get(fn)) return false;
        for (auto g : fn) {
          sj::field ff;
          std::string_view k2;
          if (std::move(g).get(ff) || ff.unescaped_key().get(k2)) return false;
          sj::value fv = ff.value();
          if (k2 == "arguments") {
            if (!string_delta(c, fv, {group, 0}, MatchedIn::kTools, Layer::kToolCall)) return false;
          } else if (k2 == "name") {
            sj::json_type t;
            if (fv.type().get(t)) return false;
            if (t == sj::json_type::string) {
              std::string name;
              if (!get_str(fv, name)) return false;
              c.out.tool_name_parts.push_back({{group, 0}, std::move(name)});
            }
          }
        }
      }
    }
    // `index` may follow `function`: fix the channel once the object is read.
    for (std::size_t i = first; i < c.out.deltas.size(); ++i) c.out.deltas[i].key.part = 1 + index;
    for (std::size_t i = first_name; i < c.out.tool_name_parts.size(); ++i) {
      c.out.tool_name_parts[i].key.part = 1 + index;
    }
  }
  return true;
}

// OpenAI chat / completions chunk.
bool openai_chunk(Ctx& c, sj::object& top, bool& wants_others) {
  for (auto f : top) {
    sj::field field;
    std::string_view key;
    if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
    if (key == "error") wants_others = true;  // its message reaches the SDK's exception
    if (key != "choices") continue;
    sj::array choices;
    if (field.value().get_array().get(choices)) return false;
    std::uint64_t position = 0;
    for (auto e : choices) {
      sj::object choice;
      if (e.get_object().get(choice)) return false;
      std::uint64_t index = position++;
      std::size_t first = c.out.deltas.size();
      std::size_t first_name = c.out.tool_name_parts.size();
      bool finished = false;
      for (auto g : choice) {
        sj::field cf;
        std::string_view ck;
        if (std::move(g).get(cf) || cf.unescaped_key().get(ck)) return false;
        sj::value cv = cf.value();
        if (ck == "index") {
          if (!get_u64(cv, index)) return false;
        } else if (ck == "text") {
          if (!string_delta(c, cv, {0, 0}, MatchedIn::kBody, Layer::kPreTemplate)) return false;
        } else if (ck == "finish_reason") {
          sj::json_type t;
          if (cv.type().get(t)) return false;
          finished = t != sj::json_type::null;
        } else if (ck == "delta" || ck == "message") {
          sj::object delta;
          if (cv.get_object().get(delta)) return false;
          for (auto h : delta) {
            sj::field df;
            std::string_view dk;
            if (std::move(h).get(df) || df.unescaped_key().get(dk)) return false;
            sj::value dv = df.value();
            if (dk == "content" || dk == "refusal") {
              const std::uint64_t part = dk == "refusal" ? kRefusalPart : 0;
              if (!string_delta(c, dv, {0, part}, MatchedIn::kBody, Layer::kPreTemplate)) {
                return false;
              }
            } else if (dk == "reasoning_content" || dk == "reasoning") {
              if (!string_delta(c, dv, {0, kReasoningPart}, MatchedIn::kBody,
                                Layer::kPreTemplate)) {
                return false;
              }
            } else if (dk == "tool_calls") {
              sj::json_type t;
              if (dv.type().get(t)) return false;
              if (t == sj::json_type::array && !openai_tool_calls(c, dv, 0)) return false;
            } else if (dk == "function_call" || dk == "audio") {
              // {name, arguments} of the legacy function call; {id, data, transcript} of audio
              // output: the arguments and the transcript are model text.
              sj::object o;
              if (dv.get_object().get(o)) continue;
              const bool call = dk == "function_call";
              for (auto g : o) {
                sj::field of;
                std::string_view ok;
                if (std::move(g).get(of) || of.unescaped_key().get(ok)) return false;
                sj::value ov = of.value();
                if (call && ok == "arguments") {
                  if (!string_delta(c, ov, {0, kFunctionCallPart}, MatchedIn::kTools,
                                    Layer::kToolCall)) {
                    return false;
                  }
                } else if (call && ok == "name") {
                  std::string name;
                  if (get_str(ov, name)) {
                    c.out.tool_name_parts.push_back({{0, kFunctionCallPart}, std::move(name)});
                  }
                } else if (!call && ok == "transcript") {
                  if (!string_delta(c, ov, {0, kAudioPart}, MatchedIn::kBody,
                                    Layer::kPreTemplate)) {
                    return false;
                  }
                }
              }
            }
          }
        }
      }
      for (std::size_t i = first; i < c.out.deltas.size(); ++i) c.out.deltas[i].key.group = index;
      for (std::size_t i = first_name; i < c.out.tool_name_parts.size(); ++i) {
        c.out.tool_name_parts[i].key.group = index;
      }
      if (finished) c.out.ends_groups.push_back(index);
    }
  }
  return true;
}

// Anthropic Messages stream event.
bool anthropic_event(Ctx& c, sj::object& top, bool& wants_others) {
  std::string type;
  std::uint64_t index = 0;
  std::size_t first = c.out.deltas.size();
  std::string delta_type;
  for (auto f : top) {
    sj::field field;
    std::string_view key;
    if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
    sj::value val = field.value();
    if (key == "type") {
      if (!get_str(val, type)) return false;
    } else if (key == "index") {
      if (!get_u64(val, index)) return false;
    } else if (key == "delta") {
      sj::object d;
      if (val.get_object().get(d)) continue;  // message_delta carries an object too
      for (auto g : d) {
        sj::field df;
        std::string_view dk;
        if (std::move(g).get(df) || df.unescaped_key().get(dk)) return false;
        sj::value dv = df.value();
        if (dk == "type") {
          sj::json_type t;
          if (dv.type().get(t)) return false;
          if (t == sj::json_type::string && !get_str(dv, delta_type)) return false;
        } else if (dk == "text" || dk == "thinking") {
          if (!string_delta(c, dv, {0, 0}, MatchedIn::kBody, Layer::kPreTemplate)) return false;
        } else if (dk == "partial_json") {
          if (!string_delta(c, dv, {0, 1}, MatchedIn::kTools, Layer::kToolCall)) return false;
        }
      }
    } else if (key == "content_block") {
      sj::object b;
      if (val.get_object().get(b)) return false;
      std::string block_type;
      std::string name;
      for (auto g : b) {
        sj::field bf;
        std::string_view bk;
        if (std::move(g).get(bf) || bf.unescaped_key().get(bk)) return false;
        sj::value bv = bf.value();
        if (bk == "type") {
          if (!get_str(bv, block_type)) return false;
        } else if (bk == "name") {
          sj::json_type t;
          if (bv.type().get(t)) return false;
          if (t == sj::json_type::string && !get_str(bv, name)) return false;
        }
      }
      if (!name.empty() && block_type.find("tool_use") != std::string::npos) {
        c.out.tools_called.push_back(name);
      }
    }
  }
  for (std::size_t i = first; i < c.out.deltas.size(); ++i) c.out.deltas[i].key.group = index;
  if (type == "content_block_delta") {
    // signature_delta and unknown delta types carry no text we know of: scan their strings.
    if (c.out.deltas.size() == first) wants_others = true;
  } else if (type == "content_block_stop") {
    c.out.ends_groups.push_back(index);
  } else if (type == "message_stop") {
    c.out.ends_all = true;
  } else if (type == "ping" || type == "message_start" || type == "message_delta") {
    // No model text: ids, usage, stop reasons (message_start's content is always empty).
    c.out.keepalive = c.out.deltas.empty();
  } else {  // error (its message reaches the SDK's exception),
    // content_block_start (may carry initial text) and anything new: their strings are scanned
    wants_others = true;
  }
  return true;
}

// OpenAI Responses stream event.
bool responses_event(Ctx& c, sj::object& top, bool& wants_others) {
  std::string type;
  std::uint64_t output_index = 0;
  std::uint64_t content_index = 0;
  std::size_t first = c.out.deltas.size();
  bool tool = false;
  for (auto f : top) {
    sj::field field;
    std::string_view key;
    if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
    sj::value val = field.value();
    if (key == "type") {
      if (!get_str(val, type)) return false;
      tool = type.find("function_call_arguments") != std::string::npos;
    } else if (key == "output_index") {
      if (!get_u64(val, output_index)) return false;
    } else if (key == "content_index") {
      if (!get_u64(val, content_index)) return false;
    } else if (key == "delta") {
      sj::json_type t;
      if (val.type().get(t)) return false;
      if (t == sj::json_type::string &&
          !string_delta(c, val, {0, 0}, MatchedIn::kBody, Layer::kPreTemplate)) {
        return false;
      }
    }
  }
  // Indexes beyond any real answer would alias another part's channel (or overflow): such an
  // event is not the Responses API's, and the stream ends as unparseable.
  if (content_index >= kContentSlots || output_index >= kContentSlots * kContentSlots) {
    return false;
  }
  std::uint64_t group = output_index * kContentSlots + content_index;
  for (std::size_t i = first; i < c.out.deltas.size(); ++i) {
    c.out.deltas[i].key.group = group;
    if (tool) {
      c.out.deltas[i].key.part = 1;
      c.out.deltas[i].matched_in = MatchedIn::kTools;
      c.out.deltas[i].layer = Layer::kToolCall;
    }
  }
  bool is_delta = type.size() > 6 && type.ends_with(".delta");
  if (!is_delta || c.out.deltas.size() == first) wants_others = true;
  if (type.ends_with(".done")) c.out.ends_groups.push_back(group);
  if (type == "response.completed" || type == "response.failed" || type == "response.incomplete") {
    c.out.ends_all = true;
  }
  return true;
}

// Ollama NDJSON line: {"message":{"content":…,"tool_calls":[…]}, "done":false} or
// {"response":…,"done":false}.
bool ollama_line(Ctx& c, sj::object& top, bool& wants_others) {
  for (auto f : top) {
    sj::field field;
    std::string_view key;
    if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
    sj::value val = field.value();
    if (key == "response") {
      if (!string_delta(c, val, {0, 0}, MatchedIn::kBody, Layer::kPreTemplate)) return false;
    } else if (key == "thinking") {
      if (!string_delta(c, val, {0, kReasoningPart}, MatchedIn::kBody, Layer::kPreTemplate)) {
        return false;
      }
    } else if (key == "done") {
      bool done = false;
      if (val.get_bool().get(done)) return false;
      if (done) c.out.ends_all = true;
    } else if (key == "error") {
      wants_others = true;
    } else if (key == "message") {
      sj::object m;
      if (val.get_object().get(m)) return false;
      for (auto g : m) {
        sj::field mf;
        std::string_view mk;
        if (std::move(g).get(mf) || mf.unescaped_key().get(mk)) return false;
        sj::value mv = mf.value();
        if (mk == "content") {
          if (!string_delta(c, mv, {0, 0}, MatchedIn::kBody, Layer::kPreTemplate)) return false;
        } else if (mk == "thinking") {
          if (!string_delta(c, mv, {0, kReasoningPart}, MatchedIn::kBody, Layer::kPreTemplate)) {
            return false;
          }
        } else if (mk == "tool_calls") {
          // Ollama sends whole tool calls, not deltas: scanned in block mode below.
          wants_others = true;
        }
      }
    }
  }
  return true;
}

struct Slot {
  sj::parser parser;
  std::string buffer;
};

// The calling thread's parser (one document at a time: a document lives until the next call).
Slot& thread_slot() {
  thread_local Slot slot;
  return slot;
}

// Starts parsing `payload`, copied into the slot's buffer with simdjson's padding after it.
simdjson::error_code iterate(Slot& slot, std::string_view payload, sj::document& doc) {
  slot.buffer.reserve(payload.size() + simdjson::SIMDJSON_PADDING);
  slot.buffer.assign(payload.data(), payload.size());
  simdjson::padded_string_view input(slot.buffer.data(), slot.buffer.size(),
                                     slot.buffer.capacity());
  return slot.parser.iterate(input).get(doc);
}

// Nesting collect_strings follows: a deeper event is not a stream's shape and would exhaust the
// worker's stack, so it does not parse (the stream is then blocked as unparseable).
constexpr int kMaxEventDepth = 128;

// Collects every string below `v` with its path (generic_strings).
bool collect_strings(const char* base, sj::value& v, std::string& path,
                     std::vector<GenericString>& out, int depth = 0) {
  if (depth > kMaxEventDepth) return false;
  sj::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case sj::json_type::string: {
      std::string_view token = v.raw_json_token();
      std::string_view text;
      if (v.get_string().get(text)) return false;
      GenericString g;
      g.path = path;
      g.span_begin = static_cast<std::size_t>(token.data() - base);
      g.span_end = g.span_begin + json_string_literal_length(token);
      g.text.assign(text);
      out.push_back(std::move(g));
      return true;
    }
    case sj::json_type::object: {
      sj::object o;
      if (v.get_object().get(o)) return false;
      for (auto f : o) {
        sj::field field;
        std::string_view key;
        if (std::move(f).get(field) || field.unescaped_key().get(key)) return false;
        std::size_t mark = path.size();
        if (!path.empty()) path.push_back('.');
        path.append(key);
        bool ok = collect_strings(base, field.value(), path, out, depth + 1);
        path.resize(mark);
        if (!ok) return false;
      }
      return true;
    }
    case sj::json_type::array: {
      sj::array a;
      if (v.get_array().get(a)) return false;
      std::size_t index = 0;
      for (auto e : a) {
        sj::value item;
        if (e.get(item)) return false;
        std::size_t mark = path.size();
        if (!path.empty()) path.push_back('.');
        path.append(std::to_string(index++));
        bool ok = collect_strings(base, item, path, out, depth + 1);
        path.resize(mark);
        if (!ok) return false;
      }
      return true;
    }
    case sj::json_type::number:
    case sj::json_type::boolean:
    case sj::json_type::null:
      return consume_json_scalar(v, t);
  }
  return false;
}

}  // namespace

bool generic_strings(std::string_view payload, std::vector<GenericString>& out) {
  Slot& slot = thread_slot();
  sj::document doc;
  sj::value root;
  if (iterate(slot, payload, doc) || doc.get_value().get(root)) return false;
  std::string path;
  if (!collect_strings(slot.buffer.data(), root, path, out)) return false;
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

StreamEventInfo parse_stream_event(Route route, std::string_view event_name,
                                   std::string_view payload) {
  StreamEventInfo info;
  if (payload == "[DONE]") {
    info.ends_all = true;
    return info;
  }
  Slot& slot = thread_slot();
  sj::document doc;
  sj::object top;
  if (iterate(slot, payload, doc) || doc.get_object().get(top)) {
    info.json_ok = false;
    return info;
  }
  Ctx c{slot.buffer.data(), info};
  bool wants_others = false;
  bool ok = true;
  switch (route.dialect) {
    case Dialect::kAnthropic:
      ok = anthropic_event(c, top, wants_others);
      break;
    case Dialect::kOllama:
      if (route.endpoint == Endpoint::kOllamaChat || route.endpoint == Endpoint::kOllamaGenerate) {
        ok = ollama_line(c, top, wants_others);
      } else {
        ok = openai_chunk(c, top, wants_others);
      }
      break;
    case Dialect::kOpenAI:
      if (route.endpoint == Endpoint::kResponses) {
        ok = responses_event(c, top, wants_others);
      } else if (route.endpoint == Endpoint::kUnknown) {
        wants_others = true;
      } else {
        ok = openai_chunk(c, top, wants_others);
      }
      break;
    case Dialect::kGeneric:
      wants_others = true;
      break;
  }
  (void)event_name;
  if (ok) ok = doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
  if (!ok) {
    info = StreamEventInfo{};
    info.json_ok = false;
    return info;
  }
  // A chunk without text, end or tool name (usage, filter results, an empty delta) carries
  // nothing to inspect: it passes at once and does not flush held text, so it cannot cut a
  // match in two.
  if (!wants_others && info.deltas.empty() && !info.ends_all && info.ends_groups.empty() &&
      info.tools_called.empty() && info.tool_name_parts.empty()) {
    info.keepalive = true;
  }
  if (wants_others) {
    ExtractedBody generic = extract_response({Dialect::kGeneric, Endpoint::kUnknown}, payload);
    if (!generic.parsed) {
      info.json_ok = false;
      return info;
    }
    for (TextPiece& p : generic.pieces) {
      bool is_delta = false;
      for (const StreamDelta& d : info.deltas) {
        if (d.span_begin == p.span_begin) is_delta = true;
      }
      if (!is_delta && !p.text.empty()) info.others.push_back(std::move(p));
    }
  }
  return info;
}

}  // namespace edgeward::inspect
