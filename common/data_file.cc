#include "common/data_file.h"

#include <algorithm>
#include <limits>

namespace loadd {
namespace {

// Where ReadRecord puts fields: without buffers it only counts them.
class FieldSink {
 public:
  FieldSink() = default;
  FieldSink(std::string* cells, std::vector<uint32_t>* ends)
      : cells_(cells), ends_(ends) {}

  void StartRecord() { record_fields_ = record_bytes_ = 0; }
  void Byte(char c) {
    ++bytes_;
    ++record_bytes_;
    if (cells_ != nullptr) cells_->push_back(c);
  }
  void EndField() {
    ++fields_;
    ++record_fields_;
    if (ends_ != nullptr) ends_->push_back(static_cast<uint32_t>(cells_->size()));
  }
  // A blank line reads as one empty field: forget it.
  bool DropBlank() {
    if (record_fields_ != 1 || record_bytes_ != 0) return false;
    --fields_;
    if (ends_ != nullptr) ends_->pop_back();
    return true;
  }
  size_t fields() const { return fields_; }
  size_t bytes() const { return bytes_; }
  size_t record_fields() const { return record_fields_; }

 private:
  std::string* cells_ = nullptr;
  std::vector<uint32_t>* ends_ = nullptr;
  size_t fields_ = 0, bytes_ = 0;
  size_t record_fields_ = 0, record_bytes_ = 0;
};

// Reads one CSV record starting at *pos into the sink.
Status ReadRecord(std::string_view text, size_t* pos, size_t line, FieldSink* sink) {
  sink->StartRecord();
  size_t field_bytes = 0;
  bool quoted = false;
  bool was_quoted = false;
  size_t i = *pos;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        sink->Byte('"');
        ++field_bytes;
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        sink->Byte(c);
        ++field_bytes;
      }
    } else if (c == '"' && field_bytes == 0 && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      sink->EndField();
      field_bytes = 0;
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      break;
    } else {
      sink->Byte(c);
      ++field_bytes;
    }
  }
  if (quoted) return Status::Invalid("line " + std::to_string(line), "unclosed quote");
  sink->EndField();
  *pos = i;
  return Status::Ok();
}

Status ReadHeader(std::string_view text, size_t* pos, std::vector<std::string>* columns) {
  FieldSink count;
  size_t end = *pos;
  LOADD_RETURN_IF_ERROR(ReadRecord(text, &end, 1, &count));
  if (count.fields() > DataFile::kMaxColumns) {
    return Status::Invalid("line 1", "at most 64 columns");
  }
  std::string cells;
  std::vector<uint32_t> ends;
  FieldSink fill(&cells, &ends);
  LOADD_RETURN_IF_ERROR(ReadRecord(text, pos, 1, &fill));
  columns->clear();
  for (size_t i = 0, begin = 0; i < ends.size(); begin = ends[i++]) {
    columns->push_back(cells.substr(begin, ends[i] - begin));
  }
  if (columns->size() == 1 && (*columns)[0].empty()) {
    return Status::Invalid("line 1", "the first line must name the columns");
  }
  for (const std::string& c : *columns) {
    if (c.empty()) return Status::Invalid("line 1", "a column has no name");
  }
  return Status::Ok();
}

// Reads every record from pos on into the sink; each must have `columns`
// fields.
Status ReadRows(std::string_view text, size_t pos, size_t columns, FieldSink* sink) {
  for (size_t line = 1; pos < text.size();) {
    ++line;
    LOADD_RETURN_IF_ERROR(ReadRecord(text, &pos, line, sink));
    if (sink->DropBlank()) continue;
    if (sink->record_fields() != columns) {
      return Status::Invalid("line " + std::to_string(line),
                             "has " + std::to_string(sink->record_fields()) +
                                 " fields, the header " + std::to_string(columns));
    }
  }
  return Status::Ok();
}

}  // namespace

namespace {

// Checks the whole text and counts its fields and their bytes into *count,
// storing nothing but the columns; *pos ends where the rows begin.
Status CheckCsv(std::string_view text, std::vector<std::string>* columns, size_t* pos,
                FieldSink* count) {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    return Status::Invalid("line 1", "the file is larger than 4 GiB");
  }
  *pos = 0;
  LOADD_RETURN_IF_ERROR(ReadHeader(text, pos, columns));
  LOADD_RETURN_IF_ERROR(ReadRows(text, *pos, columns->size(), count));
  if (count->fields() == 0) return Status::Invalid("line 2", "the file has no rows");
  return Status::Ok();
}

}  // namespace

Status ParseCsv(std::string_view text, std::vector<std::string>* columns,
                DataRows* rows) {
  // Twice over the rows: first to check and count them, then to store them
  // in buffers of exactly their size (see DataRows for the bound).
  size_t pos = 0;
  FieldSink count;
  LOADD_RETURN_IF_ERROR(CheckCsv(text, columns, &pos, &count));
  *rows = DataRows();
  rows->columns_ = columns->size();
  rows->cells_.reserve(count.bytes());
  rows->ends_.reserve(count.fields());
  FieldSink fill(&rows->cells_, &rows->ends_);
  return ReadRows(text, pos, columns->size(), &fill);
}

Status DataFile::LoadRows() {
  std::vector<std::string> names;
  return ParseCsv(content, &names, &rows);
}

int64_t RowsOfShare(const DataFile& data, int64_t modulus, int64_t residue) {
  int64_t rows = static_cast<int64_t>(data.row_count);
  if (modulus <= 0 || residue < 0 || residue >= modulus) return 0;
  switch (data.mode) {
    case DataFile::Mode::kRandom:
      return rows;
    case DataFile::Mode::kShared:
      return residue < rows ? (rows - 1 - residue) / modulus + 1 : 0;
    case DataFile::Mode::kSharded:
      return (residue + 1) * rows / modulus - residue * rows / modulus;
  }
  return 0;
}

Status ReadDataFile(const rapidjson::Value& value, DataFile* out) {
  ObjectReader r(value, "$.data");
  LOADD_RETURN_IF_ERROR(r.String("name", &out->name));
  LOADD_RETURN_IF_ERROR(r.String("content", &out->content, true));
  if (r.Get("file") != nullptr) {
    return Status::Invalid("$.data.file",
                           "loadctl inlines data files; post the plan through "
                           "loadctl, or give name and content");
  }
  if (out->content.size() > DataFile::kMaxBytes) {
    return Status::Invalid("$.data.content", "is larger than 8 MiB");
  }
  std::string mode = "shared", exhausted = "stop";
  LOADD_RETURN_IF_ERROR(r.String("mode", &mode));
  LOADD_RETURN_IF_ERROR(r.String("on_exhausted", &exhausted));
  LOADD_RETURN_IF_ERROR(r.Finish());
  if (mode == "shared") {
    out->mode = DataFile::Mode::kShared;
  } else if (mode == "sharded") {
    out->mode = DataFile::Mode::kSharded;
  } else if (mode == "random") {
    out->mode = DataFile::Mode::kRandom;
  } else {
    return Status::Invalid("$.data.mode",
                           "\"" + mode + "\" is not shared, sharded or random");
  }
  if (exhausted != "stop" && exhausted != "recycle") {
    return Status::Invalid("$.data.on_exhausted",
                           "\"" + exhausted + "\" is not stop or recycle");
  }
  out->recycle = exhausted == "recycle";
  size_t pos = 0;
  FieldSink count;
  Status st = CheckCsv(out->content, &out->columns, &pos, &count);
  out->row_count = count.fields() / std::max<size_t>(out->columns.size(), 1);
  if (!st.ok()) {
    return Status::Invalid("$.data.content", (out->name.empty() ? "" : out->name + " ") +
                                                 st.path() + ": " + st.message());
  }
  return Status::Ok();
}

void WriteDataFile(const DataFile& data, JsonWriter* w) {
  static constexpr const char* kModes[] = {"shared", "sharded", "random"};
  w->Key("data");
  w->StartObject();
  w->Key("name");
  WriteString(w, data.name);
  w->Key("content");
  WriteString(w, data.content);
  w->Key("mode");
  w->String(kModes[static_cast<int>(data.mode)]);
  w->Key("on_exhausted");
  w->String(data.recycle ? "recycle" : "stop");
  w->EndObject();
}

}  // namespace loadd
