// Base64 (RFC 4648 section 4: standard alphabet "A-Za-z0-9+/", '=' padding),
// the form HdrHistogram interval logs and loadd's JSON use for binary blobs.
#ifndef LOADD_COMMON_BASE64_H_
#define LOADD_COMMON_BASE64_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace loadd {

// Encodes any bytes; the result is padded to a multiple of 4 characters.
std::string Base64Encode(std::string_view bytes);

// Strict inverse of Base64Encode: the length must be a multiple of 4, '=' may
// only end the text (at most two), and any other character outside the
// alphabet (whitespace included) gives an InvalidArgument Status that names it
// and its offset. Unused bits of the last group are ignored.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace loadd

#endif  // LOADD_COMMON_BASE64_H_
