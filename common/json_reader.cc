#include "common/json_reader.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/units.h"

namespace loadd {

ObjectReader::ObjectReader(const rapidjson::Value& value, std::string path)
    : value_(value), path_(std::move(path)) {}

Status ObjectReader::CheckObject() const {
  if (!value_.IsObject()) {
    return Status::Invalid(path_,
                           std::string("must be an object, got ") + JsonTypeName(value_));
  }
  return Status::Ok();
}

const rapidjson::Value* ObjectReader::Get(const char* name) {
  known_.insert(name);
  if (!value_.IsObject()) return nullptr;
  auto it = value_.FindMember(name);
  return it == value_.MemberEnd() ? nullptr : &it->value;
}

Status ObjectReader::String(const char* name, std::string* out, bool required) {
  LOADD_RETURN_IF_ERROR(CheckObject());
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) {
    return required ? Status::Invalid(FieldPath(name), "is required") : Status::Ok();
  }
  if (!v->IsString()) {
    return Status::Invalid(FieldPath(name),
                           std::string("must be a string, got ") + JsonTypeName(*v));
  }
  out->assign(v->GetString(), v->GetStringLength());
  return Status::Ok();
}

Status ObjectReader::Int(const char* name, int64_t* out, int64_t min, int64_t max,
                         bool required) {
  LOADD_RETURN_IF_ERROR(CheckObject());
  const rapidjson::Value* v = Get(name);
  std::string path = FieldPath(name);
  if (v == nullptr) return required ? Status::Invalid(path, "is required") : Status::Ok();
  int64_t value;
  if (v->IsInt64()) {
    value = v->GetInt64();
  } else if (v->IsString()) {
    Result<int64_t> parsed =
        ParseCount(std::string_view(v->GetString(), v->GetStringLength()));
    if (!parsed.ok()) return Status::Invalid(path, parsed.status().message());
    value = *parsed;
  } else if (v->IsUint64() || (v->IsNumber() && std::abs(v->GetDouble()) >= 9.2e18)) {
    return Status::Invalid(path,
                           "is far too large (at most " + std::to_string(max) + ")");
  } else if (v->IsNumber()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "must be a whole number, got %g", v->GetDouble());
    return Status::Invalid(path, buf);
  } else {
    return Status::Invalid(path,
                           std::string("must be an integer, got ") + JsonTypeName(*v));
  }
  if (value < min || value > max) {
    return Status::Invalid(path, "must be between " + std::to_string(min) + " and " +
                                     std::to_string(max) + ", got " +
                                     std::to_string(value));
  }
  *out = value;
  return Status::Ok();
}

Status ObjectReader::Number(const char* name, double* out, double min_exclusive,
                            double max, bool required) {
  LOADD_RETURN_IF_ERROR(CheckObject());
  const rapidjson::Value* v = Get(name);
  std::string path = FieldPath(name);
  if (v == nullptr) return required ? Status::Invalid(path, "is required") : Status::Ok();
  double value;
  if (v->IsNumber()) {
    value = v->GetDouble();
  } else if (v->IsString()) {
    std::string_view text(v->GetString(), v->GetStringLength());
    char* end = nullptr;
    std::string copy(text);
    double plain = std::strtod(copy.c_str(), &end);
    if (!copy.empty() && end == copy.c_str() + copy.size() && std::isfinite(plain)) {
      value = plain;  // "0.5"
    } else {
      Result<int64_t> parsed = ParseCount(text);
      if (!parsed.ok()) return Status::Invalid(path, parsed.status().message());
      value = static_cast<double>(*parsed);
    }
  } else {
    return Status::Invalid(path,
                           std::string("must be a number, got ") + JsonTypeName(*v));
  }
  if (!std::isfinite(value) || value <= min_exclusive || value > max) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "must be greater than %g and at most %g, got %g",
                  min_exclusive, max, value);
    return Status::Invalid(path, buf);
  }
  *out = value;
  return Status::Ok();
}

Status ObjectReader::NonNegative(const char* name, double* out, double max,
                                 bool required) {
  LOADD_RETURN_IF_ERROR(CheckObject());
  if (Get(name) == nullptr) {
    return required ? Status::Invalid(FieldPath(name), "is required") : Status::Ok();
  }
  double value = 0;
  LOADD_RETURN_IF_ERROR(Number(name, &value, -1e308, max));
  if (value < 0) return Status::Invalid(FieldPath(name), "must be 0 or more");
  *out = value;
  return Status::Ok();
}

Status ObjectReader::DurationNs(const char* name, int64_t* out, int64_t min_ns,
                                int64_t max_ns, bool required) {
  LOADD_RETURN_IF_ERROR(CheckObject());
  const rapidjson::Value* v = Get(name);
  std::string path = FieldPath(name);
  if (v == nullptr) return required ? Status::Invalid(path, "is required") : Status::Ok();
  int64_t ns;
  if (v->IsString()) {
    Result<int64_t> parsed = ParseDurationNs(v->GetString());
    if (!parsed.ok()) return Status::Invalid(path, parsed.status().message());
    ns = *parsed;
  } else if (v->IsNumber()) {
    double seconds = v->GetDouble();
    if (!(seconds >= 0 && seconds <= 30.0 * 86400)) {
      return Status::Invalid(path, "must be a duration such as \"30s\"");
    }
    ns = static_cast<int64_t>(std::llround(seconds * 1e9));
  } else {
    return Status::Invalid(
        path, std::string("must be a duration such as \"30s\", got ") + JsonTypeName(*v));
  }
  if (ns < min_ns || ns > max_ns) {
    return Status::Invalid(path, "must be between " + FormatDurationNs(min_ns) + " and " +
                                     FormatDurationNs(max_ns) + ", got " +
                                     FormatDurationNs(ns));
  }
  *out = ns;
  return Status::Ok();
}

Status ObjectReader::Bool(const char* name, bool* out) {
  LOADD_RETURN_IF_ERROR(CheckObject());
  const rapidjson::Value* v = Get(name);
  if (v == nullptr) return Status::Ok();
  if (!v->IsBool()) {
    return Status::Invalid(FieldPath(name),
                           std::string("must be true or false, got ") + JsonTypeName(*v));
  }
  *out = v->GetBool();
  return Status::Ok();
}

Status ObjectReader::Finish() const {
  LOADD_RETURN_IF_ERROR(CheckObject());
  for (auto it = value_.MemberBegin(); it != value_.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (known_.count(name) == 0) {
      std::string list;
      for (const std::string& k : known_) list += (list.empty() ? "" : ", ") + k;
      return Status::Invalid(FieldPath(name),
                             "unknown field (known fields here: " + list + ")");
    }
  }
  return Status::Ok();
}

}  // namespace loadd
