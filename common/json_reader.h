// ObjectReader: reads one JSON object of a document a person wrote, field by
// field, with errors that name the JSON path. Fields never asked for are
// reported by Finish() as unknown, so a typo ("methd") is an error, not a
// silently ignored setting.
#ifndef LOADD_COMMON_JSON_READER_H_
#define LOADD_COMMON_JSON_READER_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "common/json.h"
#include "common/status.h"

namespace loadd {

class ObjectReader {
 public:
  // value must outlive the reader. If it is not an object, the first call
  // reports that.
  ObjectReader(const rapidjson::Value& value, std::string path);

  const std::string& path() const { return path_; }
  std::string FieldPath(std::string_view name) const {
    return JsonPathField(path_, name);
  }

  // Each getter leaves *out untouched when the field is absent and returns OK;
  // `required` turns absence into an error.
  Status String(const char* name, std::string* out, bool required = false);
  // An integer in [min, max]; also accepts a string with a count suffix ("10k").
  Status Int(const char* name, int64_t* out, int64_t min, int64_t max,
             bool required = false);
  // A number in (min, max]. Strings with count suffixes are accepted too.
  Status Number(const char* name, double* out, double min_exclusive, double max,
                bool required = false);
  // A number in [0, max].
  Status NonNegative(const char* name, double* out, double max, bool required = false);
  // A duration string ("250ms") or a number of seconds, in [min_ns, max_ns].
  Status DurationNs(const char* name, int64_t* out, int64_t min_ns, int64_t max_ns,
                    bool required = false);
  Status Bool(const char* name, bool* out);
  // Marks the field as known and returns it (nullptr when absent).
  const rapidjson::Value* Get(const char* name);

  // Errors on the first field that no getter asked for (document order).
  Status Finish() const;

 private:
  Status CheckObject() const;

  const rapidjson::Value& value_;
  std::string path_;
  std::set<std::string> known_;
};

}  // namespace loadd

#endif  // LOADD_COMMON_JSON_READER_H_
