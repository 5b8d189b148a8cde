#include "daemon/inspect/body_rewrite.hpp"

#include <algorithm>

#include "core/json.hpp"

namespace edgeward::inspect {

Result<std::string> rewrite_json_strings(std::string_view body,
                                         std::vector<StringReplacement> replacements) {
  std::sort(
      replacements.begin(), replacements.end(),
      [](const StringReplacement& a, const StringReplacement& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(body.size() + 64 * replacements.size());
  std::size_t copied = 0;
  for (const StringReplacement& r : replacements) {
    if (r.begin < copied || r.end < r.begin || r.end > body.size()) {
      return make_error("inspect.bad_replacement",
                        "replacement ranges overlap or lie outside the body");
    }
    out.append(body.substr(copied, r.begin - copied));
    json::append_json_string(out, r.text);
    copied = r.end;
  }
  out.append(body.substr(copied));
  return out;
}

}  // namespace edgeward::inspect
