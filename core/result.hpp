#pragma once
// Result<T>: the error type used across Edgeward's libraries.
//
// Rules:
//  - Data-plane and library code returns Result<T> (or Status = Result<void>); exceptions are
//    reserved for program edges (main, CLI dispatch).
//  - An Error carries a stable machine code ("config.unknown_key", "blob.bad_signature") that
//    logs, metrics and tests match on, plus a human message. Messages never carry payload
//    bytes (prompt text, header values, matched values).
//  - Result is [[nodiscard]]: ignoring one is a compile error under -Werror.

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace edgeward {

struct Error {
  std::string code;     // stable identity, dotted lowercase: "time.bad_format"
  std::string message;  // for humans; safe to log

  friend bool operator==(const Error&, const Error&) = default;
};

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(code), std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status{}; }

}  // namespace edgeward
