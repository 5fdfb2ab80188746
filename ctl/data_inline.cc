#include "ctl/data_inline.h"

#include <filesystem>

#include "common/data_file.h"
#include "common/json.h"

namespace loadd {
namespace {

static_assert(kMaxDataFileBytes == DataFile::kMaxBytes,
              "loadctl refuses data files the coordinator would refuse, and no others");

}  // namespace

std::string DataFilePath(const std::string& plan_path, const std::string& file) {
  std::filesystem::path path(file);
  if (path.is_absolute()) return file;
  return (std::filesystem::path(plan_path).parent_path() / path).string();
}

namespace {

// Replaces object.file by name (the base name) and content (the text).
Status InlineFileAt(const std::string& plan_path, Files* files,
                    const std::string& json_path, size_t max_bytes, const char* what,
                    rapidjson::Value* object, rapidjson::Document::AllocatorType& alloc) {
  if (!object->IsObject()) return Status::Ok();
  auto file = object->FindMember("file");
  if (file == object->MemberEnd()) return Status::Ok();
  std::string at = json_path + ".file";
  if (!file->value.IsString() || file->value.GetStringLength() == 0) {
    return Status::Invalid(at, std::string("must be the path of ") + what);
  }
  if (object->HasMember("content"))
    return Status::Invalid(at, "cannot be combined with content");
  std::string name(file->value.GetString(), file->value.GetStringLength());
  std::string path = DataFilePath(plan_path, name);
  Result<std::string> content = files->Read(path, max_bytes);
  if (!content.ok()) return Status::Invalid(at, path + ": " + content.status().message());
  object->EraseMember("file");  // keeps the other members in order
  object->AddMember(
      "name", JsonString(std::filesystem::path(name).filename().string(), alloc), alloc);
  object->AddMember("content", JsonString(*content, alloc), alloc);
  return Status::Ok();
}

}  // namespace

Status InlineDataFile(const std::string& plan_path, Files* files,
                      rapidjson::Document* doc) {
  if (!doc->IsObject()) return Status::Ok();
  auto& alloc = doc->GetAllocator();
  auto data = doc->FindMember("data");
  if (data != doc->MemberEnd()) {
    LOADD_RETURN_IF_ERROR(InlineFileAt(plan_path, files, "$.data", kMaxDataFileBytes,
                                       "a CSV file", &data->value, alloc));
  }
  auto tls = doc->FindMember("tls");
  if (tls == doc->MemberEnd() || !tls->value.IsObject()) return Status::Ok();
  for (const char* key : {"ca", "cert", "key"}) {
    auto member = tls->value.FindMember(key);
    if (member == tls->value.MemberEnd()) continue;
    LOADD_RETURN_IF_ERROR(InlineFileAt(plan_path, files, std::string("$.tls.") + key,
                                       kMaxPemFileBytes, "a PEM file", &member->value,
                                       alloc));
  }
  return Status::Ok();
}

}  // namespace loadd
