// Template: a string with {{ expressions }} filled in for each request.
//
// Expressions: user (fleet-wide user index), iteration (the user's
// iteration count), uuid, timestamp (Unix seconds), timestamp_ms,
// random_int(a, b), random_string(n), env.NAME (values given at start),
// and the name of a variable extracted by an earlier step. Templates are
// compiled when the plan is parsed, so an unknown function or variable is
// an error naming the JSON path, not a surprise mid-run. Values are escaped
// for where they go (JSON string: \uXXXX; URL: %XX, common/http_fields.h;
// header: CR, LF and NUL become SP, as RFC 9110 section 5.5 allows), so an
// extracted or data-file value can never break the request's syntax, inject
// a header or start a second request. A template's literal text is not
// escaped: the plan parser checks it (common/http_fields.h).
#ifndef LOADD_COMMON_TEMPLATE_H_
#define LOADD_COMMON_TEMPLATE_H_

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loadd {

enum class Escape { kNone, kJsonString, kUrl, kHeader };

// What a template may read when it is rendered. Loop-thread only.
struct TemplateContext {
  int64_t user = 0;
  int64_t iteration = 0;
  const std::map<std::string, std::string>* env = nullptr;
  const std::map<std::string, std::string>* vars = nullptr;
  std::mt19937_64* rng = nullptr;
};

class Template {
 public:
  Template() = default;
  // `known_vars`: variables extracted by earlier steps; `env`: env names.
  static Result<Template> Compile(std::string_view text, Escape escape,
                                  const std::set<std::string>& known_vars,
                                  const std::set<std::string>& env);

  bool constant() const {
    return segments_.size() <= 1 &&
           (segments_.empty() || segments_[0].kind == Kind::kLiteral);
  }
  const std::string& source() const { return source_; }
  // Appends the rendered text to out.
  void Render(const TemplateContext& ctx, std::string* out) const;
  std::string Render(const TemplateContext& ctx) const;

 private:
  enum class Kind {
    kLiteral,
    kUser,
    kIteration,
    kUuid,
    kTimestamp,
    kTimestampMs,
    kRandomInt,
    kRandomString,
    kEnv,
    kVar
  };
  struct Segment {
    Kind kind;
    std::string text;  // literal text, or the env/var name
    int64_t a = 0, b = 0;
  };
  static Result<Segment> CompileExpression(std::string_view expr,
                                           const std::set<std::string>& known_vars,
                                           const std::set<std::string>& env);
  void AppendEscaped(std::string_view value, std::string* out) const;

  std::string source_;
  Escape escape_ = Escape::kNone;
  std::vector<Segment> segments_;
};

}  // namespace loadd

#endif  // LOADD_COMMON_TEMPLATE_H_
