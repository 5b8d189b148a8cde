#pragma once
// HTTP/1.1 message heads shared by the server and the client side of the proxy.
//
// Rules:
//  - Header names keep the case they arrived with (forwarded byte-exact); lookups ignore case.
//  - Order and duplicates are preserved: a Headers is a list, not a map.
//  - Header values are payload: they never go into a log line, an event or an error message.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeward::http {

// ASCII case-insensitive equality, as HTTP field names compare.
bool iequals(std::string_view a, std::string_view b);

struct Header {
  std::string name;
  std::string value;
};

class Headers {
 public:
  void add(std::string name, std::string value);
  // Replaces every field named `name` by one with `value` (appends when absent).
  void set(std::string_view name, std::string value);
  // Removes every field named `name`; returns how many were removed.
  std::size_t remove(std::string_view name);
  // The first value of `name`, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  bool has(std::string_view name) const { return count(name) > 0; }

  const std::vector<Header>& list() const { return fields_; }
  std::vector<Header>& list() { return fields_; }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Header> fields_;
};

struct RequestHead {
  std::string method;  // "POST"
  std::string target;  // origin-form "/v1/chat/completions?x=1"
  int version_minor = 1;
  Headers headers;

  // The target without its query ("?…") or fragment.
  std::string_view path() const;
};

struct ResponseHead {
  int status = 200;
  std::string reason;  // "OK"; empty means the standard phrase for `status`
  int version_minor = 1;
  Headers headers;
};

// The standard reason phrase of a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// Serialises a head ("POST /x HTTP/1.1\r\nName: value\r\n…\r\n\r\n") onto `out`.
void serialize(const RequestHead& head, std::string& out);
void serialize(const ResponseHead& head, std::string& out);

}  // namespace edgeward::http
