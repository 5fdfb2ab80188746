// Regular expressions from a plan (a step's `extract.NAME.regex` and its
// `body_regex` checks), matched against response bodies, which come from the
// target and are hostile bytes.
//
// The engine is RE2: matching takes time linear in the input (for a fixed
// pattern) and never recurses, and its memory is a fixed budget per pattern
// (kMaxMemBytes). libstdc++'s std::regex, used before, recursed once per
// character and overflowed the stack on a 60 KB line. RE2 has no
// backreferences and no lookaround; docs/plan.md lists the syntax.
//
// Patterns are compiled once, when the plan is parsed; a BodyRegex is
// immutable afterwards and safe to share between users and threads.
#ifndef LOADD_COMMON_BODY_REGEX_H_
#define LOADD_COMMON_BODY_REGEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/json_reader.h"
#include "common/status.h"

namespace re2 {
class RE2;
}

namespace loadd {

class BodyRegex {
 public:
  // RE2's budget for one pattern: its compiled programs and DFA caches
  // (RE2's default is 8 MiB). A DFA that fills it starts over, and falls
  // back to RE2's NFA if that happens too often: slower, still linear.
  static constexpr int64_t kMaxMemBytes = 1 << 20;
  // Matching time grows with input bytes times program size, so patterns
  // that compile to more instructions are refused (".{100}" is 804).
  static constexpr int kMaxProgramSize = 1000;
  static constexpr size_t kMaxPatternBytes = 4096;

  // Compiles `pattern` (RE2 syntax, byte-wise: see the .cc). The error is
  // RE2's message ("missing ): (") without a path; callers add theirs.
  static Result<std::shared_ptr<const BodyRegex>> Compile(std::string_view pattern);

  ~BodyRegex();
  BodyRegex(const BodyRegex&) = delete;
  BodyRegex& operator=(const BodyRegex&) = delete;

  // Whether a match lies within the first max_bytes bytes of body. `$` and
  // `\z` match only at the real end of body, never at the cut.
  bool Matches(std::string_view body, size_t max_bytes) const;

  // The leftmost match within the first max_bytes bytes of body: *value is
  // its first capturing group (empty when that group took no part in the
  // match) or, for a pattern without groups, the whole match. False, with
  // *value untouched, when nothing matches.
  bool Extract(std::string_view body, size_t max_bytes, std::string* value) const;

  const std::string& pattern() const { return pattern_; }
  int groups() const;

 private:
  BodyRegex(std::string pattern, std::unique_ptr<re2::RE2> re);

  std::string pattern_;
  std::unique_ptr<re2::RE2> re_;
};

// $.regex_max_bytes: how many bytes of a response body regex checks and
// extractions search (bodies are captured up to 1 MiB).
constexpr int64_t kDefaultRegexMaxBytes = 1 << 20;
// At most this many patterns per plan, so the RE2 memory of one plan is at
// most kMaxRegexesPerPlan * BodyRegex::kMaxMemBytes (128 MiB).
constexpr size_t kMaxRegexesPerPlan = 128;

// Reads $.regex_max_bytes (bytes as a number, or a size such as "64KiB"),
// 1 byte to 1 MiB; leaves *out untouched when absent.
Status ReadRegexMaxBytes(ObjectReader* r, int64_t* out);

}  // namespace loadd

#endif  // LOADD_COMMON_BODY_REGEX_H_
