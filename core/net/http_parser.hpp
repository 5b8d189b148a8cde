#pragma once
// HttpParser: llhttp behind a small interface, for requests (the server) and responses (the
// upstream client).
//
// Rules:
//  - execute() feeds bytes and stops right after a message completes, returning how many bytes
//    it consumed: the caller answers one request (or hands back one response) before it parses
//    the next pipelined one, and keeps the unconsumed bytes for later.
//  - Heads are delivered whole (on_request_head / on_response_head) after the blank line; header
//    names and values are copied out of the caller's buffer as they are parsed, so the buffer
//    may be reused as soon as execute() returns.
//  - Body bytes are delivered as views into the caller's buffer (already de-chunked), valid only
//    during the on_body call. They are never copied by the parser.
//  - Beyond llhttp's own checks the parser refuses the request-smuggling shapes llhttp accepts
//    in its default (non-strict) build: obs-fold, bare LF or bare CR in the head, header names
//    that are not RFC 9110 tokens. llhttp itself refuses Content-Length with Transfer-Encoding,
//    duplicate or conflicting Content-Length, bad chunk sizes and Transfer-Encoding that does
//    not end in chunked. The same checks apply to responses: a proxy must not relay them either.
//  - After an error the parser stays failed; reset() starts over (a new connection).
//  - Everything runs on the caller's thread; callbacks run inside execute()/finish().
//
// Error codes (Error::code), all stable:
//   http.header_too_large        the head exceeds Limits::max_header_bytes (servers answer 431)
//   http.obs_fold                a header line continued with leading whitespace
//   http.bare_lf / http.bare_cr  a line ending that is not CRLF in the head
//   http.bad_header_name         a header name with a character outside the token set
//   http.content_length_conflict Content-Length with Transfer-Encoding, or twice
//   http.bad_content_length      a Content-Length that is not a plain decimal number
//   http.bad_transfer_encoding   a Transfer-Encoding other than "…, chunked"
//   http.bad_chunk               a malformed chunk size or chunk framing
//   http.callback_abort          a sink callback returned Abort
//   http.malformed               anything else llhttp refuses (message in Error::message)
//   http.incomplete              finish() before the message was complete

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/net/http_message.hpp"
#include "core/result.hpp"

namespace edgeward::http {

enum class ParseMode { Request, Response };

// What a sink callback tells the parser to do next.
enum class ParserAction {
  Continue,
  NoBody,  // only from a head callback: the message has no body (a response to HEAD, 204/304)
  Abort,   // stop with error http.callback_abort
};

// How the body of the message whose head was just parsed is framed.
struct BodyFraming {
  bool chunked = false;
  std::optional<std::uint64_t> content_length;  // set when sized
  bool until_eof = false;                       // a response read until the connection closes
  bool keep_alive = true;                       // the connection may carry another message
  bool expect_continue = false;                 // request carried "Expect: 100-continue"
  bool upgrade = false;                         // Upgrade/CONNECT: the caller should refuse

  bool has_body() const { return chunked || until_eof || (content_length && *content_length > 0); }
};

// Receives parse events. Called from inside HttpParser::execute()/finish() on the same thread.
class ParserSink {
 public:
  virtual ~ParserSink() = default;
  // A complete request head (ParseMode::Request). The head is the sink's to keep.
  virtual ParserAction on_request_head(RequestHead&& head, const BodyFraming& framing) {
    (void)head;
    (void)framing;
    return ParserAction::Abort;
  }
  // A complete response head (ParseMode::Response), including 1xx interim responses.
  virtual ParserAction on_response_head(ResponseHead&& head, const BodyFraming& framing) {
    (void)head;
    (void)framing;
    return ParserAction::Abort;
  }
  // De-chunked body bytes; the view points into the buffer given to execute().
  virtual ParserAction on_body(std::string_view bytes) = 0;
  // The message (body included, trailers dropped) is complete.
  virtual ParserAction on_message_complete() = 0;
};

class HttpParser {
 public:
  struct Limits {
    std::size_t max_header_bytes = 64 * 1024;  // start line + header fields + blank line
  };

  HttpParser(ParseMode mode, ParserSink& sink, Limits limits);
  HttpParser(ParseMode mode, ParserSink& sink) : HttpParser(mode, sink, Limits{}) {}
  HttpParser(const HttpParser&) = delete;
  HttpParser& operator=(const HttpParser&) = delete;

  // Parses `data`. Returns the number of bytes consumed: all of them, or fewer when a message
  // completed before the end (call execute() again with the rest when ready for the next one).
  Result<std::size_t> execute(std::string_view data);

  // The peer closed its side: completes a read-until-EOF body. Error http.incomplete when a
  // message was in progress (a truncated head or body). OK when idle between messages.
  Status finish();

  // Starts over for a new connection with the same mode, sink and limits.
  void reset();

  // True between the first byte of a message and its completion.
  bool in_message() const { return in_message_; }
  // True while the head of the current message is still being parsed (no head delivered yet).
  bool in_head() const { return in_message_ && !head_done_; }
  // Whether the connection may be reused after the last completed message.
  bool keep_alive() const { return keep_alive_; }
  // Bytes of the current head seen so far (for limits and diagnostics).
  std::size_t head_bytes() const { return head_bytes_; }

 private:
  friend struct ParserTrampoline;

  Status scan_head(std::string_view data, std::size_t& head_end);
  Error error_from_llhttp(llhttp_errno_t err) const;

  int on_message_begin();
  int on_url(std::string_view piece);
  int on_status(std::string_view piece);
  int on_header_field(std::string_view piece);
  int on_header_value(std::string_view piece);
  int on_header_value_complete();
  int on_headers_complete();
  int on_body(std::string_view piece);
  int on_message_complete();

  llhttp_t parser_{};
  ParseMode mode_;
  ParserSink& sink_;
  Limits limits_;

  // The head being assembled; moved to the sink when complete.
  RequestHead request_;
  ResponseHead response_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  std::optional<Error> callback_error_;  // set by a callback that refused the message

  // Head scanner state (runs over raw bytes before llhttp sees them).
  std::size_t head_bytes_ = 0;
  std::size_t line_len_ = 0;
  std::size_t lines_ = 0;
  bool prev_cr_ = false;

  bool in_message_ = false;
  bool head_done_ = false;
  bool keep_alive_ = true;
  bool paused_at_end_ = false;
  bool failed_ = false;
  Error failure_;
};

// True when `name` is a non-empty RFC 9110 token (the characters a header name may hold).
bool is_token(std::string_view name);

}  // namespace edgeward::http
