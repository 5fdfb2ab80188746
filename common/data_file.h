// DataFile: a CSV that travels with the plan (loadctl inlines the file; the
// workers never read the operator's disk). The first line names the
// columns; templates read them as {{data.COLUMN}}.
//
// Modes: shared (every row used once across the fleet, in order within
// each worker's stripe: worker k of n takes rows k, k+n, ...), sharded
// (worker k takes the k-th contiguous block), random (any row, each
// iteration). When a worker's rows run out: stop (its users stop; open
// model arrivals are counted as dropped) or recycle (start over).
#ifndef LOADD_COMMON_DATA_FILE_H_
#define LOADD_COMMON_DATA_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_reader.h"
#include "common/status.h"

namespace loadd {

// The rows of a data file, flat: every field's unescaped bytes one after
// another in one buffer, and where each field ends (4 bytes a field) in
// another; row r's field c is field r * columns + c. Every field of the
// text but the last ends in a comma or a line end, which it does not keep,
// so for a text of n bytes: at most n + 1 fields and n bytes of fields,
// and MemoryBytes() <= 5 * n + 8 (kBytesPerTextByte), during the parse and
// after (a nested vector of strings took 32 bytes and more per empty field).
class DataRows {
 public:
  static constexpr size_t kBytesPerTextByte = 5;
  static constexpr size_t kFixedBytes = 8;

  size_t size() const { return columns_ == 0 ? 0 : ends_.size() / columns_; }
  size_t columns() const { return columns_; }
  // Field `column` of row `row`; both must be in range.
  std::string_view Field(size_t row, size_t column) const {
    size_t i = row * columns_ + column;
    size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(cells_).substr(begin, ends_[i] - begin);
  }
  // The bytes the rows hold on the heap (capacities, not sizes).
  size_t MemoryBytes() const {
    return cells_.capacity() + ends_.capacity() * sizeof(uint32_t);
  }

 private:
  friend Status ParseCsv(std::string_view text, std::vector<std::string>* columns,
                         DataRows* rows);
  size_t columns_ = 0;
  std::string cells_;
  std::vector<uint32_t> ends_;
};

struct DataFile {
  static constexpr size_t kMaxBytes = 8 << 20;
  static constexpr size_t kMaxColumns = 64;

  enum class Mode { kShared, kSharded, kRandom };
  std::string name;
  std::string content;
  Mode mode = Mode::kShared;
  bool recycle = false;
  std::vector<std::string> columns;
  size_t row_count = 0;  // ReadDataFile checks and counts the rows
  // Empty until LoadRows(): only workers need them, so the coordinator
  // holds a data file's content and nothing more per byte.
  DataRows rows;

  bool empty() const { return columns.empty(); }
  // Parses content's rows into `rows` (a worker, before its run starts).
  Status LoadRows();
};

// How many rows the worker whose first share is the class (modulus,
// residue) uses, by DataPicker's rule: random, every row; shared, the rows
// i with i % modulus == residue; sharded, its block of about rows/modulus.
int64_t RowsOfShare(const DataFile& data, int64_t modulus, int64_t residue);

// Reads $.data ({"name", "content", "mode", "on_exhausted"}); errors name
// the JSON path, CSV errors the line.
Status ReadDataFile(const rapidjson::Value& value, DataFile* out);
void WriteDataFile(const DataFile& data, JsonWriter* w);

// Parses CSV text: comma separated, "quoted" fields with "" for a quote,
// CRLF or LF line ends; every row has as many fields as the header. Time
// and memory linear in the text's bytes (see DataRows); texts past 4 GiB
// are refused.
Status ParseCsv(std::string_view text, std::vector<std::string>* columns, DataRows* rows);

}  // namespace loadd

#endif  // LOADD_COMMON_DATA_FILE_H_
