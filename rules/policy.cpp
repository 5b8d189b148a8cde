#include "rules/policy.hpp"

#include <algorithm>
#include <cctype>

namespace edgeward::rules {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool in_scope(const Rule& r, Scope s) {
  return std::find(r.scope.begin(), r.scope.end(), s) != r.scope.end();
}

void add(const CompiledRules& rules, std::uint32_t index, std::vector<Finding>& out) {
  out.push_back(rules.finding_of(index));
}

template <class Violates>
void check(const CompiledRules& rules, Scope scope, RuleKind kind, Violates violates,
           std::vector<Finding>& out) {
  for (std::uint32_t i : rules.policy_rules()) {
    const Rule& r = rules.rule(i);
    if (r.kind == kind && in_scope(r, scope) && violates(r)) add(rules, i, out);
  }
}

}  // namespace

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative matcher with one backtrack point: linear for patterns with few stars.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool tool_allowed(const Rule& rule, std::string_view tool) {
  return std::find(rule.allowed_tools.begin(), rule.allowed_tools.end(), tool) !=
         rule.allowed_tools.end();
}

bool model_allowed(const Rule& rule, std::string_view model) {
  for (const auto& d : rule.denied_models) {
    if (glob_match(d, model)) return false;
  }
  if (rule.allowed_models.empty()) return true;
  return std::any_of(rule.allowed_models.begin(), rule.allowed_models.end(),
                     [&](const std::string& a) { return glob_match(a, model); });
}

bool domain_allowed(const Rule& rule, std::string_view host) {
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);  // FQDN form
  for (const auto& d : rule.allowed_domains) {
    if (iequal(host, d)) return true;
    if (host.size() > d.size() && host[host.size() - d.size() - 1] == '.' &&
        iequal(host.substr(host.size() - d.size()), d)) {
      return true;
    }
  }
  return false;
}

void check_tools(const CompiledRules& rules, Scope scope, std::span<const std::string_view> tools,
                 std::vector<Finding>& out) {
  check(
      rules, scope, RuleKind::tool_permission,
      [&](const Rule& r) {
        return std::any_of(tools.begin(), tools.end(),
                           [&](std::string_view t) { return !tool_allowed(r, t); });
      },
      out);
}

void check_model(const CompiledRules& rules, Scope scope, std::string_view model,
                 std::vector<Finding>& out) {
  check(
      rules, scope, RuleKind::model_permission,
      [&](const Rule& r) { return !model_allowed(r, model); }, out);
}

void check_domain(const CompiledRules& rules, Scope scope, std::string_view host,
                  std::vector<Finding>& out) {
  check(
      rules, scope, RuleKind::egress_domains,
      [&](const Rule& r) { return !domain_allowed(r, host); }, out);
}

void check_max_tokens(const CompiledRules& rules, Scope scope, std::uint64_t requested,
                      std::vector<Finding>& out) {
  check(
      rules, scope, RuleKind::max_tokens, [&](const Rule& r) { return requested > r.limit; }, out);
}

void check_body_size(const CompiledRules& rules, Scope scope, std::uint64_t bytes,
                     std::vector<Finding>& out) {
  check(
      rules, scope, RuleKind::body_size, [&](const Rule& r) { return bytes > r.limit; }, out);
}

}  // namespace edgeward::rules
