#include "common/data_file.h"

namespace loadd {
namespace {

// Reads one CSV record starting at *pos; false at the end of the text.
Status ReadRecord(std::string_view text, size_t* pos, size_t line,
                  std::vector<std::string>* fields) {
  fields->clear();
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  size_t i = *pos;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      break;
    } else {
      field += c;
    }
  }
  if (quoted) return Status::Invalid("line " + std::to_string(line), "unclosed quote");
  fields->push_back(std::move(field));
  *pos = i;
  return Status::Ok();
}

}  // namespace

Status ParseCsv(std::string_view text, std::vector<std::string>* columns,
                std::vector<std::vector<std::string>>* rows) {
  size_t pos = 0, line = 1;
  LOADD_RETURN_IF_ERROR(ReadRecord(text, &pos, line, columns));
  if (columns->empty() || (columns->size() == 1 && (*columns)[0].empty())) {
    return Status::Invalid("line 1", "the first line must name the columns");
  }
  if (columns->size() > DataFile::kMaxColumns) {
    return Status::Invalid("line 1", "at most 64 columns");
  }
  for (const std::string& c : *columns) {
    if (c.empty()) return Status::Invalid("line 1", "a column has no name");
  }
  std::vector<std::string> fields;
  while (pos < text.size()) {
    ++line;
    LOADD_RETURN_IF_ERROR(ReadRecord(text, &pos, line, &fields));
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != columns->size()) {
      return Status::Invalid("line " + std::to_string(line),
                             "has " + std::to_string(fields.size()) +
                                 " fields, the header " +
                                 std::to_string(columns->size()));
    }
    rows->push_back(fields);
  }
  if (rows->empty()) return Status::Invalid("line 2", "the file has no rows");
  return Status::Ok();
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
  Status st = ParseCsv(out->content, &out->columns, &out->rows);
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
