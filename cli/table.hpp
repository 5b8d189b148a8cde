#pragma once
// AlignedTable: the human output of the `events` and `status` commands — columns padded to
// their widest cell, a header row, two spaces between columns, no trailing spaces.

#include <cstdio>
#include <string>
#include <vector>

namespace edgeward::cli {

class AlignedTable {
 public:
  explicit AlignedTable(std::vector<std::string> header) : header_(std::move(header)) {}

  // A row with as many cells as the header (missing cells print empty, extra ones are kept).
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }

  // The table as text, one line per row, header first (omitted when `with_header` is false).
  std::string render(bool with_header = true) const;
  void print(std::FILE* out, bool with_header = true) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace edgeward::cli
