#include "cli/table.hpp"

#include <algorithm>

namespace edgeward::cli {

namespace {
// Display width: counts UTF-8 code points, not bytes (values are mostly ASCII; this keeps a
// stray non-ASCII model name from shifting the columns).
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}
}  // namespace

std::string AlignedTable::render(bool with_header) const {
  std::vector<std::size_t> widths(header_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  };
  if (with_header) measure(header_);
  for (const auto& r : rows_) measure(r);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : std::string();
      if (i > 0) line += "  ";
      line += cell;
      if (i + 1 < widths.size()) line.append(widths[i] - width(cell), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  if (with_header) emit(header_);
  for (const auto& r : rows_) emit(r);
  return out;
}

void AlignedTable::print(std::FILE* out, bool with_header) const {
  const std::string text = render(with_header);
  std::fwrite(text.data(), 1, text.size(), out);
}

}  // namespace edgeward::cli
