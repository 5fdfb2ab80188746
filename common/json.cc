#include "common/json.h"

#include <rapidjson/error/en.h>

#include <cstdio>

namespace loadd {
Status ParseJson(std::string_view text, rapidjson::Document* doc, int max_depth) {
  // Bracket depth is checked before parsing, so no caller's recursive walk
  // over the document can meet a tree deeper than max_depth.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        return Status::Invalid("$", "JSON nested deeper than " +
                                        std::to_string(max_depth) + " levels at offset " +
                                        std::to_string(i));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  // Not kParseFullPrecisionFlag: in rapidjson 1.1.0 that path has undefined
  // behaviour on inputs such as "0e223" (fuzz findings). The fast path may
  // be 3 ulp off; plans therefore write rates with 15 digits (WriteNumber15),
  // which read back to the same text.
  doc->Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(
      text.data(), text.size());
  if (doc->HasParseError()) {
    return Status::Invalid("$", std::string("invalid JSON at offset ") +
                                    std::to_string(doc->GetErrorOffset()) + ": " +
                                    rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return Status::Ok();
}

std::string JsonPathField(const std::string& parent, std::string_view field) {
  return parent + "." + std::string(field);
}

std::string JsonPathIndex(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

void WriteNumber15(JsonWriter* w, double value) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.15g", value);
  // Not RawNumber: rapidjson's Writer writes that as a quoted string.
  w->RawValue(buf, static_cast<size_t>(n), rapidjson::kNumberType);
}

const char* JsonTypeName(const rapidjson::Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "value";
}

}  // namespace loadd
