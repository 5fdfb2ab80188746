// Labels: key=value pairs that describe a worker ("pool=eu", from
// `loadd worker --label`) or a run ("branch=main", from a plan or
// `loadctl start --label`). One rule for both, so a label a worker carries
// can always be asked for by a plan and a run label can always be a filter:
//
//   key:   1 to 63 bytes of letters, digits, '.', '_', '-', starting with a
//          letter or a digit ("pool", "git.branch")
//   value: 1 to 128 bytes of letters, digits, '.', '_', '-', '/', ':', '@'
//          ("main", "feature/x", "sha256:ab12")
//   count: at most 16 labels
//
// No '=' or ',' (they separate labels in flags, tables and queries), no
// '+' or '%' (a URL query would read them as something else), no spaces or
// control characters. 16 labels of the longest form fit a worker's hello in
// the coordinator's 4 KiB limit for it.
#ifndef LOADD_COMMON_LABELS_H_
#define LOADD_COMMON_LABELS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/json_reader.h"
#include "common/status.h"

namespace loadd {

using Labels = std::map<std::string, std::string>;

constexpr size_t kMaxLabels = 16;
constexpr size_t kMaxLabelKeyBytes = 63;
constexpr size_t kMaxLabelValueBytes = 128;

// OK, or kInvalidArgument at `where` saying which part and which character
// is wrong.
Status CheckLabelKey(std::string_view key, const std::string& where);
Status CheckLabelValue(std::string_view value, const std::string& where);

// Adds one "key=value" (as given to a --label flag or a `label` config key)
// to *labels; errors name `where` (the flag) and the argument. A key given
// twice and a 17th label are errors.
Status AddLabelArg(std::string_view arg, const std::string& where, Labels* labels);
// Every argument, in order; *labels is left as it was on error.
Status ParseLabelArgs(const std::vector<std::string>& args, const std::string& where,
                      Labels* labels);

// Reads the optional object field `name` of string values into *labels;
// errors name the JSON path ("$.labels.branch").
Status ReadLabels(ObjectReader* r, const char* name, Labels* labels);
// Writes `key: {...}` (an empty object for no labels).
void WriteLabels(JsonWriter* w, const char* key, const Labels& labels);
// "k1=v1,k2=v2" in key order; "" for none (tables, logs).
std::string FormatLabels(const Labels& labels);

}  // namespace loadd

#endif  // LOADD_COMMON_LABELS_H_
