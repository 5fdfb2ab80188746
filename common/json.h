// JSON helpers over rapidjson: parsing untrusted text with bounds, and path
// strings for errors ("$.requests[2].url").
#ifndef LOADD_COMMON_JSON_H_
#define LOADD_COMMON_JSON_H_

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace loadd {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Parses untrusted JSON: validates UTF-8, uses the iterative parser (deep
// nesting cannot overflow the stack) and rejects nesting deeper than
// max_depth. Errors name the byte offset.
Status ParseJson(std::string_view text, rapidjson::Document* doc, int max_depth = 32);

std::string JsonPathField(const std::string& parent, std::string_view field);
std::string JsonPathIndex(const std::string& parent, size_t index);

// Writes a double with 15 significant digits: parsing that text (even on
// rapidjson's fast path) and writing it again gives the same text, so a
// normalized plan is a fixed point.
void WriteNumber15(JsonWriter* w, double value);

// A string value holding a copy of s.
inline rapidjson::Value JsonString(std::string_view s,
                                   rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

// "object", "array", "string", ... for error messages.
const char* JsonTypeName(const rapidjson::Value& value);

// Writes value with the given writer (for embedding documents).
// The JSON text fn writes.
inline std::string ToJson(const std::function<void(JsonWriter*)>& fn) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  fn(&w);
  return std::string(buf.GetString(), buf.GetSize());
}

inline void WriteString(JsonWriter* w, std::string_view s) {
  w->String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// "key": value, for objects written field by field.
inline void WriteField(JsonWriter* w, const char* key, std::string_view value) {
  w->Key(key);
  WriteString(w, value);
}
inline void WriteField(JsonWriter* w, const char* key, int64_t value) {
  w->Key(key);
  w->Int64(value);
}

}  // namespace loadd

#endif  // LOADD_COMMON_JSON_H_
