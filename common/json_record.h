// JsonField: a record's fields described once, for every JSON document that
// carries the record. A description is a table of rows {name in the REST
// answers, name in the run store, where the value lives}; one writer and one
// reader walk it, so a field cannot be written under one name and read back
// under another, and adding a field is adding a row.
//
// The documents:
//   kApi    the coordinator's REST answers (docs/openapi.yaml), which loadctl
//           parses back leniently (LenientJsonReader: a missing or mistyped
//           field reads as zero or empty, since a newer coordinator may add
//           or drop fields);
//   kStore  the run store's documents (daemon/coordinator/run_persist.cc),
//           read back strictly (FieldReader: a missing or mistyped field is
//           an error naming it, unless the row is `optional`).
// An optional string is null in kApi and "" in kStore when absent (so ""
// reads back as absent). Doubles are rounded to 0.1 in kApi (what people read) and
// written as C99 hex floats in kStore (they read back bit for bit).
//
// Rows whose value the writer cannot take from the record alone (derived
// from the run around it, or a nested object) are hooks: WriteJsonFields
// calls the caller's on_hook with the hook's id and name at that row, so the
// field keeps its place in the document; ReadJsonFields calls its on_hook
// (if any) the same way, so the reader takes the field from the name the
// table gives.
#ifndef LOADD_COMMON_JSON_RECORD_H_
#define LOADD_COMMON_JSON_RECORD_H_

#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include "common/json.h"

namespace loadd {

enum class JsonDoc { kApi, kStore };

// A field the writer computes (see on_hook).
struct JsonHook {
  int id = 0;
};

template <class T>
struct JsonField {
  using Member =
      std::variant<int64_t T::*, double T::*, std::string T::*, bool T::*,
                   std::optional<bool> T::*, std::optional<std::string> T::*, JsonHook>;
  const char* api = nullptr;    // name in REST answers; nullptr: not there
  const char* store = nullptr;  // name in the store; nullptr: not there
  Member at;
  // Store reader: an absent field keeps the record's default (a field added
  // after runs were stored).
  bool optional = false;

  const char* NameIn(JsonDoc doc) const { return doc == JsonDoc::kApi ? api : store; }
};

// v rounded to 0.1 (0 when not finite): how REST answers carry doubles.
void WriteRoundedDouble(JsonWriter* w, double v);
// v as a C99 hex float ("%a"): how the store carries doubles.
void WriteHexDouble(JsonWriter* w, double v);

// Writes the rows of `fields` that `doc` carries, in table order, as
// members of the object being written (the caller writes the braces).
// on_hook(w, id, name) writes the hook rows' fields under `name` (or
// leaves them out: a hook writes zero or one field).
template <class T>
void WriteJsonFields(
    JsonWriter* w, const T& record, std::span<const JsonField<T>> fields, JsonDoc doc,
    const std::function<void(JsonWriter*, int, const char*)>& on_hook = {}) {
  for (const JsonField<T>& f : fields) {
    const char* name = f.NameIn(doc);
    if (name == nullptr) continue;
    if (const JsonHook* hook = std::get_if<JsonHook>(&f.at)) {
      if (on_hook) on_hook(w, hook->id, name);
      continue;
    }
    w->Key(name);
    std::visit(
        [&](auto at) {
          using A = decltype(at);
          if constexpr (std::is_same_v<A, int64_t T::*>) {
            w->Int64(record.*at);
          } else if constexpr (std::is_same_v<A, double T::*>) {
            if (doc == JsonDoc::kApi) {
              WriteRoundedDouble(w, record.*at);
            } else {
              WriteHexDouble(w, record.*at);
            }
          } else if constexpr (std::is_same_v<A, std::string T::*>) {
            WriteString(w, record.*at);
          } else if constexpr (std::is_same_v<A, bool T::*>) {
            w->Bool(record.*at);
          } else if constexpr (std::is_same_v<A, std::optional<bool> T::*>) {
            if ((record.*at).has_value()) {
              w->Bool(*(record.*at));
            } else {
              w->Null();
            }
          } else if constexpr (std::is_same_v<A, std::optional<std::string> T::*>) {
            if ((record.*at).has_value()) {
              WriteString(w, *(record.*at));
            } else if (doc == JsonDoc::kApi) {
              w->Null();
            } else {
              w->String("");
            }
          }
        },
        f.at);
  }
}

// Reads the rows of `fields` that `doc` carries from the object v into
// *record. Reader has Int, Double, Str, Bool (key) and, for optional rows,
// OptionalBool and OptionalStr; its error policy is its own (FieldReader,
// LenientJsonReader). on_hook(id, name) reads the hook rows.
template <class T, class Reader>
void ReadJsonFields(Reader* r, const rapidjson::Value& v, T* record,
                    std::span<const JsonField<T>> fields, JsonDoc doc,
                    const std::function<void(int, const char*)>& on_hook = {}) {
  for (const JsonField<T>& f : fields) {
    const char* name = f.NameIn(doc);
    if (name == nullptr) continue;
    if (const JsonHook* hook = std::get_if<JsonHook>(&f.at)) {
      if (on_hook) on_hook(hook->id, name);
      continue;
    }
    if (f.optional && (!v.IsObject() || !v.HasMember(name))) continue;
    std::visit(
        [&](auto at) {
          using A = decltype(at);
          if constexpr (std::is_same_v<A, int64_t T::*>) {
            record->*at = r->Int(v, name);
          } else if constexpr (std::is_same_v<A, double T::*>) {
            record->*at = r->Double(v, name);
          } else if constexpr (std::is_same_v<A, std::string T::*>) {
            record->*at = r->Str(v, name);
          } else if constexpr (std::is_same_v<A, bool T::*>) {
            record->*at = r->Bool(v, name);
          } else if constexpr (std::is_same_v<A, std::optional<bool> T::*>) {
            record->*at = r->OptionalBool(v, name);
          } else if constexpr (std::is_same_v<A, std::optional<std::string> T::*>) {
            record->*at = r->OptionalStr(v, name);
          }
        },
        f.at);
  }
}

// Reads the fields of a REST answer as loadctl does: absent or mistyped
// reads as zero, empty or false; a number with a fraction read as an integer
// is truncated (0 past +-9e18). Never fails.
class LenientJsonReader {
 public:
  static const rapidjson::Value* Member(const rapidjson::Value& object, const char* name);
  int64_t Int(const rapidjson::Value& object, const char* name) const;
  double Double(const rapidjson::Value& object, const char* name) const;
  std::string Str(const rapidjson::Value& object, const char* name) const;
  bool Bool(const rapidjson::Value& object, const char* name) const;
  // nullopt unless the field is a boolean (null: not decided).
  std::optional<bool> OptionalBool(const rapidjson::Value& object,
                                   const char* name) const;
  // nullopt unless the field is a non-empty string.
  std::optional<std::string> OptionalStr(const rapidjson::Value& object,
                                         const char* name) const;
};

}  // namespace loadd

#endif  // LOADD_COMMON_JSON_RECORD_H_
