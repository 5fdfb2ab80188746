// Files travel with the plan: loadctl reads the files named by $.data.file
// and $.tls.{ca,cert,key}.file and posts their text, so workers never read
// the operator's disk.
//
//   "data": {"file": "users.csv", "mode": "shared"}
//   -> "data": {"name": "users.csv", "content": "id,name\n...", "mode": "shared"}
#ifndef LOADD_CTL_DATA_INLINE_H_
#define LOADD_CTL_DATA_INLINE_H_

#include <rapidjson/document.h>

#include <cstddef>
#include <string>

#include "common/status.h"
#include "ctl/files.h"

namespace loadd {

inline constexpr char kDataFilePath[] = "$.data.file";
// The coordinator's limit on $.data.content (DataFile::kMaxBytes).
inline constexpr size_t kMaxDataFileBytes = size_t{8} << 20;
// ... and on each PEM file of $.tls (PemFile::kMaxBytes).
inline constexpr size_t kMaxPemFileBytes = size_t{64} << 10;

// Where a data file named in the plan is: relative paths are relative to the
// directory of the plan file (plan_path), absolute ones are kept.
std::string DataFilePath(const std::string& plan_path, const std::string& file);

// Replaces $.data.file (and $.tls.ca.file, $.tls.cert.file, $.tls.key.file)
// by "name" (the file's base name) and "content" (its text), keeping the
// other members. A plan without such files is unchanged; other mistakes are
// left to ParsePlan. Errors are kInvalidArgument naming the .file path: not
// a string, combined with content, unreadable, or larger than the limit.
Status InlineDataFile(const std::string& plan_path, Files* files,
                      rapidjson::Document* doc);

}  // namespace loadd

#endif  // LOADD_CTL_DATA_INLINE_H_
