#include "common/template.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "common/http_fields.h"

namespace loadd {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Parses "name(a, b)" arguments as integers.
bool ParseArgs(std::string_view args, std::vector<int64_t>* out) {
  while (!args.empty()) {
    size_t comma = args.find(',');
    std::string_view one = Trim(args.substr(0, comma));
    int64_t v = 0;
    auto [end, ec] = std::from_chars(one.data(), one.data() + one.size(), v);
    if (ec != std::errc() || end != one.data() + one.size()) return false;
    out->push_back(v);
    if (comma == std::string_view::npos) break;
    args = args.substr(comma + 1);
  }
  return true;
}

std::string JoinNames(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

Result<Template::Segment> Template::CompileExpression(
    std::string_view expr, const std::set<std::string>& known_vars,
    const std::set<std::string>& env) {
  expr = Trim(expr);
  std::string e(expr);
  if (e == "user") return Segment{Kind::kUser, ""};
  if (e == "iteration") return Segment{Kind::kIteration, ""};
  if (e == "uuid") return Segment{Kind::kUuid, ""};
  if (e == "timestamp") return Segment{Kind::kTimestamp, ""};
  if (e == "timestamp_ms") return Segment{Kind::kTimestampMs, ""};
  if (e.rfind("env.", 0) == 0) {
    std::string name = e.substr(4);
    if (env.count(name) == 0) {
      return Status::Invalid(
          "", "{{" + e + "}}: no env value \"" + name + "\" (given: " + JoinNames(env) +
                  "; pass it with loadctl start --env " + name + "=VALUE)");
    }
    return Segment{Kind::kEnv, name};
  }
  size_t paren = e.find('(');
  if (paren != std::string::npos && e.back() == ')') {
    std::string fn = e.substr(0, paren);
    std::vector<int64_t> args;
    if (!ParseArgs(std::string_view(e).substr(paren + 1, e.size() - paren - 2), &args)) {
      return Status::Invalid("", "{{" + e + "}}: arguments must be whole numbers");
    }
    if (fn == "random_int" && args.size() == 2 && args[0] <= args[1]) {
      return Segment{Kind::kRandomInt, "", args[0], args[1]};
    }
    if (fn == "random_string" && args.size() == 1 && args[0] >= 1 && args[0] <= 4096) {
      return Segment{Kind::kRandomString, "", args[0]};
    }
    return Status::Invalid(
        "", "{{" + e + "}}: use random_int(min, max) or random_string(1..4096)");
  }
  if (e.rfind("data.", 0) == 0) {
    if (known_vars.count(e) == 0) {
      return Status::Invalid("",
                             "{{" + e + "}}: the plan's data file has no such column");
    }
    return Segment{Kind::kVar, e};
  }
  if (IsIdentifier(e)) {
    if (known_vars.count(e) == 0) {
      return Status::Invalid(
          "", "{{" + e + "}}: unknown variable (extracted by earlier steps: " +
                  JoinNames(known_vars) +
                  "; built in: user, iteration, uuid, "
                  "timestamp, timestamp_ms, random_int(a,b), random_string(n), "
                  "env.NAME)");
    }
    return Segment{Kind::kVar, e};
  }
  return Status::Invalid("", "{{" + e + "}} is not an expression loadd knows");
}

Result<Template> Template::Compile(std::string_view text, Escape escape,
                                   const std::set<std::string>& known_vars,
                                   const std::set<std::string>& env) {
  Template t;
  t.source_ = std::string(text);
  t.escape_ = escape;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.segments_.push_back({Kind::kLiteral, std::string(text.substr(pos))});
      break;
    }
    if (open > pos)
      t.segments_.push_back({Kind::kLiteral, std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return Status::Invalid("", "unclosed \"{{\"");
    Result<Segment> seg =
        CompileExpression(text.substr(open + 2, close - open - 2), known_vars, env);
    if (!seg.ok()) return seg.status();
    t.segments_.push_back(*seg);
    pos = close + 2;
  }
  return t;
}

void Template::AppendEscaped(std::string_view value, std::string* out) const {
  switch (escape_) {
    case Escape::kNone:
      out->append(value);
      return;
    case Escape::kHeader:
      // RFC 9110 section 5.5: CR, LF and NUL are never valid in a field
      // value; each becomes SP, so the value stays on its one header line.
      for (char c : value) {
        out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
      }
      return;
    case Escape::kUrl:
      AppendUrlEncoded(value, out);
      return;
    case Escape::kJsonString:
      for (unsigned char c : value) {
        if (c == '"' || c == '\\') {
          out->push_back('\\');
          out->push_back(static_cast<char>(c));
        } else if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
      }
      return;
  }
}

void Template::Render(const TemplateContext& ctx, std::string* out) const {
  static const char kAlnum[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (const Segment& s : segments_) {
    switch (s.kind) {
      case Kind::kLiteral:
        out->append(s.text);
        break;
      case Kind::kUser:
        out->append(std::to_string(ctx.user));
        break;
      case Kind::kIteration:
        out->append(std::to_string(ctx.iteration));
        break;
      case Kind::kTimestamp:
      case Kind::kTimestampMs: {
        auto now = std::chrono::system_clock::now().time_since_epoch();
        int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
        out->append(std::to_string(s.kind == Kind::kTimestamp ? ms / 1000 : ms));
        break;
      }
      case Kind::kUuid: {
        uint64_t hi = (*ctx.rng)(), lo = (*ctx.rng)();
        hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4
        lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
        char buf[40];
        std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                      static_cast<unsigned long long>(hi >> 32),
                      static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                      static_cast<unsigned long long>(hi & 0xFFFF),
                      static_cast<unsigned long long>(lo >> 48),
                      static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
        out->append(buf);
        break;
      }
      case Kind::kRandomInt: {
        std::uniform_int_distribution<int64_t> dist(s.a, s.b);
        out->append(std::to_string(dist(*ctx.rng)));
        break;
      }
      case Kind::kRandomString:
        for (int64_t i = 0; i < s.a; ++i) out->push_back(kAlnum[(*ctx.rng)() % 62]);
        break;
      case Kind::kEnv:
      case Kind::kVar: {
        const auto* map = s.kind == Kind::kEnv ? ctx.env : ctx.vars;
        if (map == nullptr) break;
        auto it = map->find(s.text);
        if (it != map->end()) AppendEscaped(it->second, out);
        break;
      }
    }
  }
}

std::string Template::Render(const TemplateContext& ctx) const {
  std::string out;
  Render(ctx, &out);
  return out;
}

}  // namespace loadd
