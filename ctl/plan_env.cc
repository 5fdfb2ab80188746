#include "ctl/plan_env.h"

#include "common/json.h"

namespace loadd {
namespace {

bool IsKeyStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsKeyChar(char c) { return IsKeyStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

Result<std::pair<std::string, std::string>> ParseEnvFlag(const std::string& flag) {
  size_t eq = flag.find('=');
  if (eq == std::string::npos) {
    return Status::Invalid(kEnvFlag, "\"" + flag + "\" is not KEY=VALUE");
  }
  std::string key = flag.substr(0, eq);
  bool valid = !key.empty() && IsKeyStart(key[0]);
  for (char c : key) valid = valid && IsKeyChar(c);
  if (!valid) {
    return Status::Invalid(kEnvFlag, "\"" + key +
                                         "\" is not a KEY (a letter or _, then letters, "
                                         "digits or _)");
  }
  return std::make_pair(key, flag.substr(eq + 1));
}

Status CheckEnvFlags(const std::vector<std::string>& flags) {
  for (const std::string& flag : flags) {
    Result<std::pair<std::string, std::string>> pair = ParseEnvFlag(flag);
    if (!pair.ok()) return pair.status();
  }
  return Status::Ok();
}

Status ApplyEnvFlags(const std::vector<std::string>& flags, rapidjson::Document* doc) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& flag : flags) {
    Result<std::pair<std::string, std::string>> pair = ParseEnvFlag(flag);
    if (!pair.ok()) return pair.status();
    pairs.push_back(std::move(*pair));
  }
  if (pairs.empty() || !doc->IsObject()) return Status::Ok();
  auto& alloc = doc->GetAllocator();
  auto env = doc->FindMember("env");
  if (env == doc->MemberEnd()) {
    doc->AddMember("env", rapidjson::Value(rapidjson::kObjectType), alloc);
    env = doc->FindMember("env");
  }
  if (!env->value.IsObject()) return Status::Ok();
  for (const auto& [key, value] : pairs) {
    auto it = env->value.FindMember(key.c_str());
    if (it != env->value.MemberEnd() && it->value.IsObject()) {
      // {"value": ..., "public": true}: the new value keeps the marking.
      auto old = it->value.FindMember("value");
      if (old != it->value.MemberEnd()) {
        old->value = JsonString(value, alloc);
      } else {
        it->value.AddMember("value", JsonString(value, alloc), alloc);
      }
    } else if (it != env->value.MemberEnd()) {
      it->value = JsonString(value, alloc);
    } else {
      env->value.AddMember(JsonString(key, alloc), JsonString(value, alloc), alloc);
    }
  }
  return Status::Ok();
}

}  // namespace loadd
