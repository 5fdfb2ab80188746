// The dashboard's files (web/), embedded into the binaries at build time by
// cmake/embed_files.cmake: index.html, app.js, report.js, style.css and
// uPlot's uPlot.iife.min.js and uPlot.min.css from web/node_modules. Nothing
// is read from disk or the network at run time.
#ifndef LOADD_WEB_EMBEDDED_FILES_H_
#define LOADD_WEB_EMBEDDED_FILES_H_

#include <cstddef>
#include <span>
#include <string_view>

namespace loadd {

struct EmbeddedFile {
  const char* name;  // base name: "index.html"
  const char* etag;  // the first 16 hex digits of the content's SHA-256
  std::string_view bytes;
};

// Defined by the generated source (web_files.cc in the build directory).
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kEmbeddedFileCount;

std::span<const EmbeddedFile> EmbeddedFiles();

// The file called `name`, or nullptr.
const EmbeddedFile* FindEmbeddedFile(std::string_view name);

// The Content-Type for a file name by its extension ("text/javascript;
// charset=utf-8" for .js); application/octet-stream for others.
std::string_view ContentTypeOf(std::string_view name);

}  // namespace loadd

#endif  // LOADD_WEB_EMBEDDED_FILES_H_
