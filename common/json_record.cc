#include "common/json_record.h"

#include <cstdio>

namespace loadd {

void WriteRoundedDouble(JsonWriter* w, double v) {
  w->Double(std::isfinite(v) ? std::round(v * 10) / 10 : 0);
}

void WriteHexDouble(JsonWriter* w, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%a", v);
  w->String(buf);
}

const rapidjson::Value* LenientJsonReader::Member(const rapidjson::Value& object,
                                                  const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

int64_t LenientJsonReader::Int(const rapidjson::Value& object, const char* name) const {
  const rapidjson::Value* v = Member(object, name);
  if (v == nullptr || !v->IsNumber()) return 0;
  if (v->IsInt64()) return v->GetInt64();
  double d = v->GetDouble();
  return d > 9e18 || d < -9e18 ? 0 : static_cast<int64_t>(d);
}

double LenientJsonReader::Double(const rapidjson::Value& object, const char* name) const {
  const rapidjson::Value* v = Member(object, name);
  return v != nullptr && v->IsNumber() ? v->GetDouble() : 0;
}

std::string LenientJsonReader::Str(const rapidjson::Value& object,
                                   const char* name) const {
  const rapidjson::Value* v = Member(object, name);
  if (v == nullptr || !v->IsString()) return "";
  return std::string(v->GetString(), v->GetStringLength());
}

bool LenientJsonReader::Bool(const rapidjson::Value& object, const char* name) const {
  const rapidjson::Value* v = Member(object, name);
  return v != nullptr && v->IsBool() && v->GetBool();
}

std::optional<bool> LenientJsonReader::OptionalBool(const rapidjson::Value& object,
                                                    const char* name) const {
  const rapidjson::Value* v = Member(object, name);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::optional<std::string> LenientJsonReader::OptionalStr(const rapidjson::Value& object,
                                                          const char* name) const {
  std::string s = Str(object, name);
  if (s.empty()) return std::nullopt;
  return s;
}

}  // namespace loadd
