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
#include <vector>

#include "common/json_reader.h"
#include "common/status.h"

namespace loadd {

struct DataFile {
  static constexpr size_t kMaxBytes = 8 << 20;
  static constexpr size_t kMaxColumns = 64;

  enum class Mode { kShared, kSharded, kRandom };
  std::string name;
  std::string content;
  Mode mode = Mode::kShared;
  bool recycle = false;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  bool empty() const { return columns.empty(); }
};

// Reads $.data ({"name", "content", "mode", "on_exhausted"}); errors name
// the JSON path, CSV errors the line.
Status ReadDataFile(const rapidjson::Value& value, DataFile* out);
void WriteDataFile(const DataFile& data, JsonWriter* w);

// Parses CSV text: comma separated, "quoted" fields with "" for a quote,
// CRLF or LF line ends; every row has as many fields as the header.
Status ParseCsv(std::string_view text, std::vector<std::string>* columns,
                std::vector<std::vector<std::string>>* rows);

}  // namespace loadd

#endif  // LOADD_COMMON_DATA_FILE_H_
