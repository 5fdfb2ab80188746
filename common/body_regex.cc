#include "common/body_regex.h"

#include <re2/re2.h>

#include <algorithm>
#include <utility>

#include "common/units.h"

namespace loadd {
namespace {

// Bodies are bytes, not necessarily UTF-8, so patterns match byte-wise as
// std::regex did: RE2's Latin-1 mode, where `.` and classes match one byte
// and a non-ASCII literal in the pattern matches its UTF-8 bytes. (In UTF-8
// mode `.` would not match a byte that is not valid UTF-8, and \pL{10}
// would compile to 11,934 instructions.)
RE2::Options Options() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_max_mem(BodyRegex::kMaxMemBytes);
  options.set_log_errors(false);  // errors are returned; nothing goes to stderr
  return options;
}

}  // namespace

BodyRegex::BodyRegex(std::string pattern, std::unique_ptr<re2::RE2> re)
    : pattern_(std::move(pattern)), re_(std::move(re)) {}

BodyRegex::~BodyRegex() = default;

Result<std::shared_ptr<const BodyRegex>> BodyRegex::Compile(std::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return Status::Invalid(
        "", "bad regex: longer than " + std::to_string(kMaxPatternBytes) + " bytes");
  }
  auto re = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()),
                                       Options());
  if (!re->ok()) {
    std::string hint;
    if (re->error_code() == RE2::ErrorBadEscape && re->error_arg().size() == 2 &&
        re->error_arg()[1] >= '1' && re->error_arg()[1] <= '9') {
      hint = " (RE2 has no backreferences)";
    } else if (re->error_code() == RE2::ErrorBadPerlOp) {
      hint = " (RE2 has no lookahead, lookbehind or atomic groups)";
    }
    return Status::Invalid("", "bad regex (RE2 syntax): " + re->error() + hint);
  }
  if (re->ProgramSize() > kMaxProgramSize) {
    return Status::Invalid(
        "", "bad regex: compiles to " + std::to_string(re->ProgramSize()) +
                " instructions, more than " + std::to_string(kMaxProgramSize) +
                " (use smaller repetition counts)");
  }
  return std::shared_ptr<const BodyRegex>(
      new BodyRegex(std::string(pattern), std::move(re)));
}

int BodyRegex::groups() const { return re_->NumberOfCapturingGroups(); }

bool BodyRegex::Matches(std::string_view body, size_t max_bytes) const {
  re2::StringPiece text(body.data(), body.size());
  return re_->Match(text, 0, std::min(body.size(), max_bytes), RE2::UNANCHORED, nullptr,
                    0);
}

bool BodyRegex::Extract(std::string_view body, size_t max_bytes,
                        std::string* value) const {
  re2::StringPiece text(body.data(), body.size());
  re2::StringPiece match[2];
  int n = groups() > 0 ? 2 : 1;
  if (!re_->Match(text, 0, std::min(body.size(), max_bytes), RE2::UNANCHORED, match, n)) {
    return false;
  }
  const re2::StringPiece& got = match[n - 1];
  if (got.data() == nullptr) {
    value->clear();
  } else {
    value->assign(got.data(), got.size());
  }
  return true;
}

Status ReadRegexMaxBytes(ObjectReader* r, int64_t* out) {
  const rapidjson::Value* v = r->Get("regex_max_bytes");
  if (v == nullptr) return Status::Ok();
  std::string path = r->FieldPath("regex_max_bytes");
  int64_t bytes = -1;
  if (v->IsInt64()) {
    bytes = v->GetInt64();
  } else if (v->IsString()) {
    Result<int64_t> parsed = ParseSizeBytes(std::string_view(v->GetString()));
    if (!parsed.ok()) return Status::Invalid(path, parsed.status().message());
    bytes = *parsed;
  } else {
    return Status::Invalid(path, "must be a size in bytes (a number, or \"64KiB\")");
  }
  if (bytes < 1 || bytes > kDefaultRegexMaxBytes) {
    return Status::Invalid(path, "must be 1 byte to 1 MiB (bodies are kept up to 1 MiB)");
  }
  *out = bytes;
  return Status::Ok();
}

}  // namespace loadd
