// A plain-text table whose columns are as wide as their widest cell.
#ifndef LOADD_CTL_TABLE_H_
#define LOADD_CTL_TABLE_H_

#include <string>
#include <vector>

namespace loadd {

class Table {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string title;
    Align align;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // Missing cells print empty; extra cells are dropped.
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // Title line, then one line per row; columns separated by two spaces, no
  // trailing blanks; every line ends in '\n'.
  std::string Format() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// One number formatted with printf's `format` ("%.1f"), for a table cell.
std::string Printf(const char* format, double value);

}  // namespace loadd

#endif  // LOADD_CTL_TABLE_H_
