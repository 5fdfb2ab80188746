#include "web/embedded_files.h"

namespace loadd {

std::span<const EmbeddedFile> EmbeddedFiles() {
  return {kEmbeddedFiles, kEmbeddedFileCount};
}

const EmbeddedFile* FindEmbeddedFile(std::string_view name) {
  for (const EmbeddedFile& f : EmbeddedFiles()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string_view ContentTypeOf(std::string_view name) {
  struct Row {
    std::string_view extension;
    std::string_view type;
  };
  static constexpr Row kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
  };
  for (const Row& row : kTypes) {
    if (name.ends_with(row.extension)) return row.type;
  }
  return "application/octet-stream";
}

}  // namespace loadd
