#include "common/labels.h"

namespace loadd {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsKeyChar(char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; }
bool IsValueChar(char c) { return IsKeyChar(c) || c == '/' || c == ':' || c == '@'; }

// The offending byte, printable or as \xNN.
std::string Quote(char c) {
  if (c >= ' ' && c < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char u = static_cast<unsigned char>(c);
  return std::string("byte \\x") + kHex[u >> 4] + kHex[u & 15];
}

}  // namespace

Status CheckLabelKey(std::string_view key, const std::string& where) {
  if (key.empty() || key.size() > kMaxLabelKeyBytes) {
    return Status::Invalid(where, "label key must be 1 to 63 bytes");
  }
  if (!IsAlnum(key[0])) {
    return Status::Invalid(where, "label key \"" + std::string(key) +
                                      "\" must start with a letter or a digit");
  }
  for (char c : key) {
    if (!IsKeyChar(c)) {
      return Status::Invalid(where,
                             "label key may hold only letters, digits, '.', "
                             "'_' and '-', not " +
                                 Quote(c));
    }
  }
  return Status::Ok();
}

Status CheckLabelValue(std::string_view value, const std::string& where) {
  if (value.empty() || value.size() > kMaxLabelValueBytes) {
    return Status::Invalid(where, "label value must be 1 to 128 bytes");
  }
  for (char c : value) {
    if (!IsValueChar(c)) {
      return Status::Invalid(where,
                             "label value may hold only letters, digits, "
                             "'.', '_', '-', '/', ':' and '@', not " +
                                 Quote(c));
    }
  }
  return Status::Ok();
}

Status AddLabelArg(std::string_view arg, const std::string& where, Labels* labels) {
  // The argument is hostile too: quote at most its first 200 bytes.
  std::string at = where + " \"" + std::string(arg.substr(0, 200)) + "\"";
  size_t eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return Status::Invalid(at, "must be key=value");
  }
  std::string_view key = arg.substr(0, eq);
  std::string_view value = arg.substr(eq + 1);
  LOADD_RETURN_IF_ERROR(CheckLabelKey(key, at));
  LOADD_RETURN_IF_ERROR(CheckLabelValue(value, at));
  if (labels->count(std::string(key)) > 0) {
    return Status::Invalid(at, "label \"" + std::string(key) + "\" is given twice");
  }
  if (labels->size() >= kMaxLabels) {
    return Status::Invalid(at, "more than 16 labels");
  }
  labels->emplace(key, value);
  return Status::Ok();
}

Status ParseLabelArgs(const std::vector<std::string>& args, const std::string& where,
                      Labels* labels) {
  Labels out = *labels;
  for (const std::string& arg : args) {
    LOADD_RETURN_IF_ERROR(AddLabelArg(arg, where, &out));
  }
  *labels = std::move(out);
  return Status::Ok();
}

Status ReadLabels(ObjectReader* r, const char* name, Labels* labels) {
  const rapidjson::Value* v = r->Get(name);
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath(name);
  if (!v->IsObject() || v->MemberCount() > kMaxLabels) {
    return Status::Invalid(path, "must be an object of at most 16 key: string labels");
  }
  Labels out;
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    std::string at = JsonPathField(path, key);
    LOADD_RETURN_IF_ERROR(CheckLabelKey(key, at));
    if (!it->value.IsString()) return Status::Invalid(at, "must be a string");
    std::string_view value(it->value.GetString(), it->value.GetStringLength());
    LOADD_RETURN_IF_ERROR(CheckLabelValue(value, at));
    // rapidjson keeps duplicate members; the last one would win silently.
    if (!out.emplace(key, value).second) {
      return Status::Invalid(at, "is given twice");
    }
  }
  *labels = std::move(out);
  return Status::Ok();
}

void WriteLabels(JsonWriter* w, const char* key, const Labels& labels) {
  w->Key(key);
  w->StartObject();
  for (const auto& [k, v] : labels) WriteField(w, k.c_str(), v);
  w->EndObject();
}

std::string FormatLabels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ',';
    out += k + "=" + v;
  }
  return out;
}

}  // namespace loadd
