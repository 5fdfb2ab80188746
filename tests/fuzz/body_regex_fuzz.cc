// Fuzzes the plan regexes of common/body_regex.h: a hostile pattern (as a
// plan may give) compiled as the plan parser does, then matched against a
// hostile body (as a target may send). Input, as text:
//
//   <max_bytes> <repeat>\n<pattern>\n<body>
//
// The first line is optional numbers (max_bytes: the search bound, default
// the body's size; repeat: the body is repeated that many times, at most
// kMaxBodyBytes in all, so short inputs reach long bodies). Besides "never
// crash", checks that Matches and Extract agree, that an extracted value
// lies within the bound, and that a larger bound never loses a match.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/body_regex.h"

namespace {

constexpr size_t kMaxBodyBytes = 64 << 10;

[[noreturn]] void Fail(const char* what, std::string_view pattern) {
  std::fprintf(stderr, "body_regex_fuzz: %s\npattern: %.*s\n", what,
               static_cast<int>(pattern.size()), pattern.data());
  std::abort();
}

// Reads a decimal number at *text (skipping spaces), at most `max`.
size_t Number(std::string_view* text, size_t max, size_t fallback) {
  while (!text->empty() && text->front() == ' ') text->remove_prefix(1);
  if (text->empty() || text->front() < '0' || text->front() > '9') return fallback;
  size_t n = 0;
  while (!text->empty() && text->front() >= '0' && text->front() <= '9') {
    n = std::min(max, n * 10 + static_cast<size_t>(text->front() - '0'));
    text->remove_prefix(1);
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t eol = input.find('\n');
  if (eol == std::string_view::npos) return 0;
  std::string_view numbers = input.substr(0, eol);
  std::string_view rest = input.substr(eol + 1);
  size_t max_bytes = Number(&numbers, kMaxBodyBytes, kMaxBodyBytes);
  size_t repeat = Number(&numbers, kMaxBodyBytes, 1);
  size_t pattern_end = rest.find('\n');
  std::string_view pattern = rest.substr(0, pattern_end);
  std::string_view piece =
      pattern_end == std::string_view::npos ? "" : rest.substr(pattern_end + 1);

  loadd::Result<std::shared_ptr<const loadd::BodyRegex>> re =
      loadd::BodyRegex::Compile(pattern);
  if (!re.ok()) {
    if (re.status().message().empty()) Fail("an error without a message", pattern);
    return 0;
  }
  std::string body(piece);
  for (size_t i = 1; i < repeat && body.size() + piece.size() <= kMaxBodyBytes; ++i) {
    body.append(piece);
  }
  bool matches = (*re)->Matches(body, max_bytes);
  std::string value;
  bool extracted = (*re)->Extract(body, max_bytes, &value);
  if (matches != extracted) Fail("Matches and Extract disagree", pattern);
  if (extracted && value.size() > std::min(body.size(), max_bytes)) {
    Fail("the extracted value is longer than the searched bytes", pattern);
  }
  if (matches && !(*re)->Matches(body, max_bytes + 1 + max_bytes / 2)) {
    Fail("a larger bound lost a match", pattern);
  }
  return 0;
}
