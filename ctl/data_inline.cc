#include "ctl/data_inline.h"

#include <filesystem>

#include "common/data_file.h"

namespace loadd {
namespace {

static_assert(kMaxDataFileBytes == DataFile::kMaxBytes,
              "loadctl refuses data files the coordinator would refuse, and no others");

rapidjson::Value Text(const std::string& s, rapidjson::Document::AllocatorType& alloc) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), alloc);
}

}  // namespace

std::string DataFilePath(const std::string& plan_path, const std::string& file) {
  std::filesystem::path path(file);
  if (path.is_absolute()) return file;
  return (std::filesystem::path(plan_path).parent_path() / path).string();
}

Status InlineDataFile(const std::string& plan_path, Files* files,
                      rapidjson::Document* doc) {
  if (!doc->IsObject()) return Status::Ok();
  auto data = doc->FindMember("data");
  if (data == doc->MemberEnd() || !data->value.IsObject()) return Status::Ok();
  auto file = data->value.FindMember("file");
  if (file == data->value.MemberEnd()) return Status::Ok();
  if (!file->value.IsString() || file->value.GetStringLength() == 0) {
    return Status::Invalid(kDataFilePath, "must be the path of a CSV file");
  }
  if (data->value.HasMember("content")) {
    return Status::Invalid(kDataFilePath, "cannot be combined with content");
  }
  std::string name(file->value.GetString(), file->value.GetStringLength());
  std::string path = DataFilePath(plan_path, name);
  Result<std::string> content = files->Read(path, kMaxDataFileBytes);
  if (!content.ok()) {
    return Status::Invalid(kDataFilePath, path + ": " + content.status().message());
  }
  auto& alloc = doc->GetAllocator();
  data->value.EraseMember("file");  // keeps the other members in order
  data->value.AddMember(
      "name", Text(std::filesystem::path(name).filename().string(), alloc), alloc);
  data->value.AddMember("content", Text(*content, alloc), alloc);
  return Status::Ok();
}

}  // namespace loadd
