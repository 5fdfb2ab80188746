// Writing and reading the fields of the coordinator's stored documents
// (run_persist.cc): doubles as C99 hex floats, which read back bit for bit,
// and a reader that never trusts what it reads back.
#ifndef LOADD_DAEMON_COORDINATOR_STORED_FIELDS_H_
#define LOADD_DAEMON_COORDINATOR_STORED_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "common/hdr_histogram.h"
#include "common/json.h"
#include "common/status.h"

namespace loadd {

void WriteHex(JsonWriter* w, const char* key, double v);  // "%a"
void WriteBool(JsonWriter* w, const char* key, bool v);
void WriteSize(JsonWriter* w, const char* key, size_t v);

// Reads fields of a stored document. The first problem sticks (it names the
// field); later reads give defaults, so callers check ok() once at the end.
// Wrong types and missing fields are errors, never a crash.
class FieldReader {
 public:
  // Bound on one decoded histogram (a latency histogram's counts take 184 KiB).
  static constexpr size_t kMaxCountsBytes = size_t{1} << 20;

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  int64_t Int(const rapidjson::Value& obj, const char* key);
  bool Bool(const rapidjson::Value& obj, const char* key);
  std::string Str(const rapidjson::Value& obj, const char* key);
  double Hex(const rapidjson::Value& obj, const char* key);
  // For ReadJsonFields (common/json_record.h): the store's doubles are hex
  // floats; an optional string is "" when absent.
  double Double(const rapidjson::Value& obj, const char* key) { return Hex(obj, key); }
  std::optional<std::string> OptionalStr(const rapidjson::Value& obj, const char* key);
  std::optional<bool> OptionalBool(const rapidjson::Value& obj, const char* key);
  // An empty array / object when absent or wrong (and the error set).
  const rapidjson::Value& Array(const rapidjson::Value& obj, const char* key);
  const rapidjson::Value& Object(const rapidjson::Value& obj, const char* key);
  // Decodes a base64 V2 histogram into *out (left alone on error).
  void Hist(const rapidjson::Value& obj, const char* key, HdrHistogram* out);
  void Fail(const char* key, const std::string& why);

 private:
  const rapidjson::Value* Find(const rapidjson::Value& obj, const char* key,
                               bool (rapidjson::Value::*is)() const, const char* type);

  Status status_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_STORED_FIELDS_H_
