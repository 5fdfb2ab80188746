#include "daemon/coordinator/data_warning.h"

#include <string>

namespace loadd {

int64_t WorkersWithoutRows(const std::vector<RunWorker>& workers) {
  int64_t n = 0;
  for (const RunWorker& rw : workers) n += rw.data_rows == 0;
  return n;
}

void WriteDataWarning(JsonWriter* w, const Plan& plan,
                      const std::vector<RunWorker>& workers) {
  int64_t idle = WorkersWithoutRows(workers);
  if (idle == 0) return;
  int64_t rows = static_cast<int64_t>(plan.data.row_count);
  const char* mode = plan.data.mode == DataFile::Mode::kSharded ? "sharded" : "shared";
  std::string name = plan.data.name.empty() ? "the data file" : plan.data.name;
  w->StartObject();
  w->Key("kind");
  w->String("data");
  w->Key("workers");
  w->Int64(idle);
  w->Key("rows");
  w->Int64(rows);
  w->Key("message");
  WriteString(w, std::to_string(idle) + " of " + std::to_string(workers.size()) +
                     " workers got no row of " + name + " (" + std::to_string(rows) +
                     (rows == 1 ? " row" : " rows") + ", mode " + mode +
                     "): their users sent nothing. Give the file at least one row "
                     "per worker, use mode random, or run on fewer workers");
  w->EndObject();
}

}  // namespace loadd
