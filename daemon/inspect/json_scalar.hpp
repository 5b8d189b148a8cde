#pragma once
// Consuming a JSON scalar (or a container's raw text) with simdjson On-Demand, shared by the
// request/response extraction (surfaces.cpp) and the generic stream walk (stream_events.cpp).
//
// On-Demand validates a value only when it is read: a number, boolean or null that nobody
// reads could be malformed and the document would still be "parsed". Walks that skip scalars
// read them here so that a malformed one makes the walk fail (and the body scanned raw).

#include <simdjson.h>

#include <string_view>

namespace edgeward::inspect {

// Reads the scalar `v` of type `t`; false when it is malformed or `t` is not a scalar type
// (object, array and string have their own readers).
inline bool consume_json_scalar(simdjson::ondemand::value& v, simdjson::ondemand::json_type t) {
  namespace sj = simdjson::ondemand;
  switch (t) {
    case sj::json_type::number: {
      sj::number n;
      return !v.get_number().get(n);
    }
    case sj::json_type::boolean: {
      bool b;
      return !v.get_bool().get(b);
    }
    case sj::json_type::null: {
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
    default:
      return false;
  }
}

// The raw JSON text of the object or array `v` of type `t` (from its opening to its closing
// bracket), the value consumed; false when it is malformed or `t` is not a container.
inline bool container_raw_json(simdjson::ondemand::value& v, simdjson::ondemand::json_type t,
                               std::string_view& raw) {
  namespace sj = simdjson::ondemand;
  if (t == sj::json_type::object) {
    sj::object o;
    return !v.get_object().get(o) && !o.raw_json().get(raw);
  }
  if (t == sj::json_type::array) {
    sj::array a;
    return !v.get_array().get(a) && !a.raw_json().get(raw);
  }
  return false;
}

}  // namespace edgeward::inspect
