#include "ctl/table.h"

#include <algorithm>
#include <cstdio>

namespace loadd {
namespace {

constexpr size_t kGap = 2;

// Terminal columns taken by UTF-8 text, counting each code point as one.
size_t DisplayWidth(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

void AppendCell(const std::string& cell, size_t width, Table::Align align, bool last,
                std::string* line) {
  size_t pad = width - std::min(width, DisplayWidth(cell));
  if (align == Table::Align::kRight) line->append(pad, ' ');
  line->append(cell);
  if (align == Table::Align::kLeft && !last) line->append(pad, ' ');
}

}  // namespace

std::string Table::Format() const {
  std::vector<size_t> widths;
  for (const Column& c : columns_) widths.push_back(DisplayWidth(c.title));
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  std::string out;
  auto emit = [&](auto cell_at) {
    std::string line;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) line.append(kGap, ' ');
      AppendCell(cell_at(i), widths[i], columns_[i].align, i + 1 == columns_.size(),
                 &line);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + '\n';
  };
  emit([&](size_t i) -> const std::string& { return columns_[i].title; });
  static const std::string kEmpty;
  for (const auto& row : rows_) {
    emit(
        [&](size_t i) -> const std::string& { return i < row.size() ? row[i] : kEmpty; });
  }
  return out;
}

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace loadd
