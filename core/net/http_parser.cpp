#include "core/net/http_parser.hpp"

#include <array>
#include <cassert>
#include <cstring>

namespace edgeward::http {

namespace {

constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTokenChars = make_token_table();

}  // namespace

bool is_token(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!kTokenChars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

// The one place llhttp's C callbacks enter the C++ object: each settings slot points to a
// member function through these templates.
struct ParserTrampoline {
  template <int (HttpParser::*M)()>
  static int cb(llhttp_t* p) {
    return (static_cast<HttpParser*>(p->data)->*M)();
  }
  template <int (HttpParser::*M)(std::string_view)>
  static int data_cb(llhttp_t* p, const char* at, std::size_t len) {
    return (static_cast<HttpParser*>(p->data)->*M)(std::string_view(at, len));
  }

  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t s = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = &cb<&HttpParser::on_message_begin>;
      s.on_url = &data_cb<&HttpParser::on_url>;
      s.on_status = &data_cb<&HttpParser::on_status>;
      s.on_header_field = &data_cb<&HttpParser::on_header_field>;
      s.on_header_value = &data_cb<&HttpParser::on_header_value>;
      s.on_header_value_complete = &cb<&HttpParser::on_header_value_complete>;
      s.on_headers_complete = &cb<&HttpParser::on_headers_complete>;
      s.on_body = &data_cb<&HttpParser::on_body>;
      s.on_message_complete = &cb<&HttpParser::on_message_complete>;
      return s;
    }();
    return s;
  }
};

HttpParser::HttpParser(ParseMode mode, ParserSink& sink, Limits limits)
    : mode_(mode), sink_(sink), limits_(limits) {
  reset();
}

void HttpParser::reset() {
  llhttp_init(&parser_, mode_ == ParseMode::Request ? HTTP_REQUEST : HTTP_RESPONSE,
              &ParserTrampoline::settings());
  parser_.data = this;
  request_ = RequestHead{};
  response_ = ResponseHead{};
  field_.clear();
  value_.clear();
  in_value_ = false;
  callback_error_.reset();
  head_bytes_ = line_len_ = lines_ = 0;
  prev_cr_ = false;
  in_message_ = head_done_ = false;
  keep_alive_ = true;
  paused_at_end_ = false;
  failed_ = false;
  failure_ = Error{};
}

// Walks the raw bytes of a head (before llhttp sees them) and refuses what llhttp's default
// build lets through: obs-fold, bare LF/CR, and heads over the size limit. Sets `head_end` to
// the offset just past the blank line, or data.size() when the head continues.
Status HttpParser::scan_head(std::string_view data, std::size_t& head_end) {
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (!prev_cr_ && line_len_ > 0) {
      // Inside a line only CR and LF matter: skip the plain bytes before the next one with
      // memchr (vectorised) instead of looking at each byte. Same checks, same order: plain
      // bytes can only fail the size limit.
      const char* p = data.data() + i;
      const std::size_t left = data.size() - i;
      const void* lf = std::memchr(p, '\n', left);
      std::size_t plain =
          lf != nullptr ? static_cast<std::size_t>(static_cast<const char*>(lf) - p) : left;
      if (const void* cr = std::memchr(p, '\r', plain); cr != nullptr) {
        plain = static_cast<std::size_t>(static_cast<const char*>(cr) - p);
      }
      if (plain > 0) {
        if (head_bytes_ + plain > limits_.max_header_bytes) {
          return make_error("http.header_too_large", "request head exceeds max_header_bytes");
        }
        head_bytes_ += plain;
        line_len_ += plain;
        i += plain;
        if (i == data.size()) break;
      }
    }
    const char c = data[i];
    if (++head_bytes_ > limits_.max_header_bytes) {
      return make_error("http.header_too_large", "request head exceeds max_header_bytes");
    }
    if (prev_cr_) {
      if (c != '\n') return make_error("http.bare_cr", "CR not followed by LF in the head");
      prev_cr_ = false;
      if (line_len_ == 0) {
        // Empty line: the end of the head once the start line is seen; before it, RFC 9112
        // §2.2 lets a server ignore leading empty lines (llhttp does).
        if (lines_ > 0) {
          head_end = i + 1;
          return {};
        }
      } else {
        ++lines_;
      }
      line_len_ = 0;
      continue;
    }
    if (c == '\r') {
      prev_cr_ = true;
      continue;
    }
    if (c == '\n') return make_error("http.bare_lf", "line ending without CR in the head");
    if (line_len_ == 0 && lines_ > 0 && (c == ' ' || c == '\t')) {
      return make_error("http.obs_fold", "obsolete line folding in a header field");
    }
    ++line_len_;
  }
  head_end = data.size();
  return {};
}

Result<std::size_t> HttpParser::execute(std::string_view data) {
  if (failed_) return failure_;
  if (paused_at_end_) {
    llhttp_resume(&parser_);
    paused_at_end_ = false;
  }
  if (data.empty()) return std::size_t{0};

  // While a head is (or may start) being parsed, scan it first; llhttp then sees only bytes
  // the scanner accepted, so a refused head never reaches a callback.
  if (!head_done_) {
    std::size_t head_end = 0;
    if (Status st = scan_head(data, head_end); !st) {
      failed_ = true;
      failure_ = st.error();
      return failure_;
    }
  }

  llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) return data.size();
  if (err == HPE_PAUSED && paused_at_end_) {
    const char* pos = llhttp_get_error_pos(&parser_);
    return static_cast<std::size_t>(pos - data.data());
  }
  failed_ = true;
  failure_ = callback_error_ ? *callback_error_ : error_from_llhttp(err);
  return failure_;
}

Status HttpParser::finish() {
  if (failed_) return failure_;
  if (paused_at_end_) {
    llhttp_resume(&parser_);
    paused_at_end_ = false;
  }
  if (!in_message_) return {};
  llhttp_errno_t err = llhttp_finish(&parser_);
  if (err != HPE_OK && !(err == HPE_PAUSED && paused_at_end_)) {
    failed_ = true;
    failure_ = callback_error_ ? *callback_error_ : error_from_llhttp(err);
    return failure_;
  }
  if (in_message_) {
    failed_ = true;
    failure_ = make_error("http.incomplete", "connection closed in the middle of a message");
    return failure_;
  }
  return {};
}

Error HttpParser::error_from_llhttp(llhttp_errno_t err) const {
  const char* reason = llhttp_get_error_reason(&parser_);
  std::string why = std::string(llhttp_errno_name(err)) + ": " + (reason ? reason : "");
  switch (err) {
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return make_error("http.content_length_conflict", why);
    case HPE_INVALID_CONTENT_LENGTH:
      return make_error("http.bad_content_length", why);
    case HPE_INVALID_TRANSFER_ENCODING:
      return make_error("http.bad_transfer_encoding", why);
    case HPE_INVALID_CHUNK_SIZE:
    case HPE_STRICT:
      return make_error("http.bad_chunk", why);
    case HPE_INVALID_EOF_STATE:
      return make_error("http.incomplete", why);
    default:
      return make_error("http.malformed", why);
  }
}

int HttpParser::on_message_begin() {
  in_message_ = true;
  head_done_ = false;
  if (mode_ == ParseMode::Request) {
    request_ = RequestHead{};
  } else {
    response_ = ResponseHead{};
  }
  field_.clear();
  value_.clear();
  in_value_ = false;
  return 0;
}

int HttpParser::on_url(std::string_view piece) {
  request_.target.append(piece);
  return 0;
}

int HttpParser::on_status(std::string_view piece) {
  response_.reason.append(piece);
  return 0;
}

int HttpParser::on_header_field(std::string_view piece) {
  if (in_value_) {
    // llhttp calls value-complete before the next field, so this is only a defensive reset.
    field_.clear();
    value_.clear();
    in_value_ = false;
  }
  field_.append(piece);
  return 0;
}

int HttpParser::on_header_value(std::string_view piece) {
  in_value_ = true;
  value_.append(piece);
  return 0;
}

int HttpParser::on_header_value_complete() {
  if (!is_token(field_)) {
    callback_error_ = make_error("http.bad_header_name", "header name is not an RFC 9110 token");
    return -1;
  }
  Headers& h = mode_ == ParseMode::Request ? request_.headers : response_.headers;
  h.add(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
  in_value_ = false;
  return 0;
}

namespace {

// True when every coding of every Transfer-Encoding field is `chunked` (or `identity`).
bool only_chunked(const Headers& headers) {
  for (const Header& h : headers.list()) {
    if (!iequals(h.name, "Transfer-Encoding")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view coding = rest.substr(0, comma);
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) {
        coding.remove_prefix(1);
      }
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) {
        coding.remove_suffix(1);
      }
      if (!coding.empty() && !iequals(coding, "chunked") && !iequals(coding, "identity")) {
        return false;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return true;
}

}  // namespace

int HttpParser::on_headers_complete() {
  head_done_ = true;
  BodyFraming framing;
  const auto flags = parser_.flags;
  framing.chunked = (flags & F_CHUNKED) != 0;
  // llhttp accepts `gzip, chunked` and removes only the chunking: a response body still
  // gzip-coded would travel on with its coding forgotten (re-framed, unreadable, never
  // inspected). Requests: the server refuses them itself (http_server.cpp, 400).
  // Whether chunked or not: `Transfer-Encoding: gzip` alone is read until the connection closes.
  if (mode_ == ParseMode::Response && (flags & F_TRANSFER_ENCODING) != 0) {
    if (!only_chunked(response_.headers)) {
      callback_error_ = make_error("http.bad_transfer_encoding",
                                   "a transfer coding other than chunked is not supported");
      return -1;
    }
  }
  if (flags & F_CONTENT_LENGTH) framing.content_length = parser_.content_length;
  framing.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  framing.upgrade = parser_.upgrade != 0;

  ParserAction action;
  if (mode_ == ParseMode::Request) {
    request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    request_.version_minor = parser_.http_minor;
    if (parser_.http_major != 1) {
      callback_error_ = make_error("http.malformed", "only HTTP/1.x is supported");
      return -1;
    }
    if (auto expect = request_.headers.get("Expect")) {
      framing.expect_continue = iequals(*expect, "100-continue");
    }
    action = sink_.on_request_head(std::move(request_), framing);
  } else {
    response_.status = parser_.status_code;
    response_.version_minor = parser_.http_minor;
    const int s = parser_.status_code;
    framing.until_eof =
        !framing.chunked && !framing.content_length && s >= 200 && s != 204 && s != 304;
    action = sink_.on_response_head(std::move(response_), framing);
  }
  switch (action) {
    case ParserAction::Continue:
      return 0;
    case ParserAction::NoBody:
      return 1;
    case ParserAction::Abort:
      break;
  }
  callback_error_ = make_error("http.callback_abort", "the message was refused by its receiver");
  return -1;
}

int HttpParser::on_body(std::string_view piece) {
  if (sink_.on_body(piece) == ParserAction::Abort) {
    callback_error_ = make_error("http.callback_abort", "the message was refused by its receiver");
    return HPE_USER;
  }
  return 0;
}

int HttpParser::on_message_complete() {
  in_message_ = false;
  head_done_ = false;
  head_bytes_ = line_len_ = lines_ = 0;
  prev_cr_ = false;
  keep_alive_ = llhttp_should_keep_alive(&parser_) != 0;
  if (sink_.on_message_complete() == ParserAction::Abort) {
    callback_error_ = make_error("http.callback_abort", "the message was refused by its receiver");
    return -1;
  }
  // Stop here so the caller handles one message before parsing the next pipelined one.
  paused_at_end_ = true;
  return HPE_PAUSED;
}

}  // namespace edgeward::http
