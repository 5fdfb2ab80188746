#include "daemon/coordinator/stored_fields.h"

#include <cstdlib>

#include "common/json_record.h"

namespace loadd {

void WriteHex(JsonWriter* w, const char* key, double v) {
  w->Key(key);
  WriteHexDouble(w, v);
}

void WriteBool(JsonWriter* w, const char* key, bool v) {
  w->Key(key);
  w->Bool(v);
}

void WriteSize(JsonWriter* w, const char* key, size_t v) {
  WriteField(w, key, static_cast<int64_t>(v));
}

int64_t FieldReader::Int(const rapidjson::Value& obj, const char* key) {
  const rapidjson::Value* v = Find(obj, key, &rapidjson::Value::IsInt64, "an integer");
  return v ? v->GetInt64() : 0;
}

bool FieldReader::Bool(const rapidjson::Value& obj, const char* key) {
  const rapidjson::Value* v = Find(obj, key, &rapidjson::Value::IsBool, "a boolean");
  return v ? v->GetBool() : false;
}

std::string FieldReader::Str(const rapidjson::Value& obj, const char* key) {
  const rapidjson::Value* v = Find(obj, key, &rapidjson::Value::IsString, "a string");
  return v ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

double FieldReader::Hex(const rapidjson::Value& obj, const char* key) {
  std::string text = Str(obj, key);
  if (!ok()) return 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') Fail(key, "is not a hex float");
  return v;
}

std::optional<std::string> FieldReader::OptionalStr(const rapidjson::Value& obj,
                                                    const char* key) {
  std::string s = Str(obj, key);
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<bool> FieldReader::OptionalBool(const rapidjson::Value& obj,
                                              const char* key) {
  if (obj.IsObject() && obj.HasMember(key) && obj[key].IsNull()) return std::nullopt;
  return Bool(obj, key);
}

const rapidjson::Value& FieldReader::Array(const rapidjson::Value& obj, const char* key) {
  static const rapidjson::Value kEmpty(rapidjson::kArrayType);
  const rapidjson::Value* v = Find(obj, key, &rapidjson::Value::IsArray, "an array");
  return v ? *v : kEmpty;
}

const rapidjson::Value& FieldReader::Object(const rapidjson::Value& obj,
                                            const char* key) {
  static const rapidjson::Value kEmpty(rapidjson::kObjectType);
  const rapidjson::Value* v = Find(obj, key, &rapidjson::Value::IsObject, "an object");
  return v ? *v : kEmpty;
}

void FieldReader::Hist(const rapidjson::Value& obj, const char* key, HdrHistogram* out) {
  std::string text = Str(obj, key);
  if (!ok()) return;
  Result<HdrHistogram> h = HdrHistogram::DecodeBase64(text, kMaxCountsBytes);
  if (!h.ok()) {
    Fail(key, h.status().message());
  } else {
    *out = std::move(*h);
  }
}

void FieldReader::Fail(const char* key, const std::string& why) {
  if (ok()) {
    status_ =
        Status::Invalid(key, "stored run: field \"" + std::string(key) + "\" " + why);
  }
}

const rapidjson::Value* FieldReader::Find(const rapidjson::Value& obj, const char* key,
                                          bool (rapidjson::Value::*is)() const,
                                          const char* type) {
  if (!ok()) return nullptr;
  if (!obj.IsObject()) {
    Fail(key, "is in something that is not an object");
    return nullptr;
  }
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !(it->value.*is)()) {
    Fail(key, std::string("is missing or not ") + type);
    return nullptr;
  }
  return &it->value;
}

}  // namespace loadd
