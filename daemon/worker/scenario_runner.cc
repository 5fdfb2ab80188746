#include "daemon/worker/scenario_runner.h"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <strings.h>

#include <algorithm>
#include <ctime>

#include "common/clock.h"
#include "common/json.h"
#include "daemon/worker/engine.h"

namespace loadd {
namespace {

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

const std::string* FindHeader(const ExchangeResult& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// The response body as JSON, parsed at most once per response.
class LazyJson {
 public:
  explicit LazyJson(const std::string& body) : body_(body) {}
  const rapidjson::Value* At(const std::string& pointer) {
    if (!parsed_) {
      parsed_ = true;
      ok_ = ParseJson(body_, &doc_, 64).ok();
    }
    if (!ok_) return nullptr;
    return rapidjson::Pointer(pointer.c_str()).Get(doc_);
  }

 private:
  const std::string& body_;
  bool parsed_ = false;
  bool ok_ = false;
  rapidjson::Document doc_;
};

}  // namespace

ScenarioRunner::ScenarioRunner(Engine* engine, const CompiledScenarios* compiled,
                               int64_t user)
    : engine_(engine),
      compiled_(compiled),
      user_(user),
      rng_(0x9E3779B97F4A7C15ULL ^ user) {}

ScenarioRunner::~ScenarioRunner() { curl_slist_free_all(request_.curl_headers); }

void ScenarioRunner::Assign(int64_t index) {
  scenario_ =
      compiled_->rotation[static_cast<size_t>(index) % compiled_->rotation.size()];
  user_ = index;
  step_ = 0;
  vars_.clear();
  cookies_.Clear();  // a new user (or arrival) starts without cookies
}

const Scenario& ScenarioRunner::scenario() const {
  return engine_->plan().scenarios[scenario_];
}

const PreparedRequest* ScenarioRunner::RenderStep() {
  if (step_ == 0 && engine_->data() != nullptr) {
    int64_t row = engine_->data()->Next(&rng_);
    if (row < 0) return nullptr;  // this worker's rows are used up
    const DataFile& data = engine_->plan().data;
    for (size_t i = 0; i < data.columns.size(); ++i) {
      vars_["data." + data.columns[i]] = data.rows.Field(static_cast<size_t>(row), i);
    }
  }
  const Step& step = scenario().steps[step_];
  const CompiledScenarios::StepInfo& info = compiled_->steps[scenario_][step_];
  TemplateContext ctx{user_, iteration_, &engine_->plan().env, &vars_, &rng_};
  std::string target = step.target.Render(ctx);
  std::string body = step.has_body ? step.body.Render(ctx) : "";
  bool wants_length = step.has_body || step.method == "POST" || step.method == "PUT" ||
                      step.method == "PATCH";
  PreparedRequest& r = request_;
  r.slot = info.slot;
  r.address = info.address;
  r.head = step.method == "HEAD";
  r.timeout_ns = step.timeout_ns;
  r.capture_body = step.need_body;
  r.capture_headers = step.need_headers;
  std::string cookie = CookieHeader(step, target);
  if (engine_->plan().http.cookies &&
      std::find(r.capture_headers.begin(), r.capture_headers.end(), "set-cookie") ==
          r.capture_headers.end()) {
    r.capture_headers.push_back("set-cookie");
  }
  if (engine_->uses_curl()) {
    r.url = step.url.scheme + "://" + step.url.HostHeader() + target;
    r.method = step.method;
    r.body = std::move(body);
    r.has_body = wants_length;
    curl_slist_free_all(r.curl_headers);
    r.curl_headers = curl_slist_append(nullptr, "User-Agent: loadd/" LOADD_VERSION);
    r.curl_headers = curl_slist_append(r.curl_headers, "Expect:");
    for (const auto& [name, value] : step.headers) {
      r.curl_headers =
          curl_slist_append(r.curl_headers, (name + ": " + value.Render(ctx)).c_str());
    }
    if (!cookie.empty())
      r.curl_headers = curl_slist_append(r.curl_headers, cookie.c_str());
    return &r;
  }
  r.bytes.clear();
  r.bytes += step.method + " " + target + " HTTP/1.1\r\nHost: " + step.url.HostHeader() +
             "\r\nUser-Agent: loadd/" LOADD_VERSION "\r\n";
  for (const auto& [name, value] : step.headers) {
    r.bytes += name + ": ";
    value.Render(ctx, &r.bytes);
    r.bytes += "\r\n";
  }
  if (!cookie.empty()) r.bytes += cookie + "\r\n";
  if (wants_length) r.bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r.bytes += "\r\n";
  r.bytes += body;
  return &r;
}

std::string ScenarioRunner::CookieHeader(const Step& step, const std::string& target) {
  if (!engine_->plan().http.cookies) return "";
  request_path_ = target.substr(0, target.find('?'));
  for (const auto& header : step.headers) {
    if (strcasecmp(header.first.c_str(), "cookie") == 0)
      return "";  // the step's own wins
  }
  std::string value =
      cookies_.HeaderFor(step.url.host, request_path_, step.url.scheme == "https",
                         static_cast<int64_t>(std::time(nullptr)));
  return value.empty() ? "" : "Cookie: " + value;
}

void ScenarioRunner::KeepCookies(const Step& step, const ExchangeResult& result) {
  if (!engine_->plan().http.cookies || !result.ok) return;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const auto& [name, value] : result.headers) {
    if (name == "set-cookie") cookies_.Set(value, step.url.host, request_path_, now);
  }
}

size_t ScenarioRunner::RegexMaxBytes() const {
  return static_cast<size_t>(engine_->plan().regex_max_bytes);
}

bool ScenarioRunner::RunCheck(const Check& check, const ExchangeResult& result) const {
  switch (check.kind) {
    case Check::Kind::kStatus:
      return result.ok && std::find(check.statuses.begin(), check.statuses.end(),
                                    result.status) != check.statuses.end();
    case Check::Kind::kBodyContains:
      return result.ok && result.body.find(check.text) != std::string::npos;
    case Check::Kind::kBodyRegex:
      return result.ok && check.regex->Matches(result.body, RegexMaxBytes());
    case Check::Kind::kJsonEquals: {
      LazyJson json(result.body);
      const rapidjson::Value* v = result.ok ? json.At(check.text) : nullptr;
      return v != nullptr && Compact(*v) == check.equals_json;
    }
    case Check::Kind::kHeaderContains: {
      const std::string* v = FindHeader(result, check.header);
      return result.ok && v != nullptr && v->find(check.text) != std::string::npos;
    }
    case Check::Kind::kLatency:
      return result.ok && result.latency_us < check.latency_us;
  }
  return false;
}

bool ScenarioRunner::Extract(const Step& step, const ExchangeResult& result) {
  const CompiledScenarios::StepInfo& info = compiled_->steps[scenario_][step_];
  LazyJson json(result.body);
  for (size_t i = 0; i < step.extracts.size(); ++i) {
    const ::loadd::Extract& e = step.extracts[i];
    std::string value;
    bool found = false;
    if (!result.ok) {
      // nothing to extract from
    } else if (e.kind == ::loadd::Extract::Kind::kJson) {
      if (const rapidjson::Value* v = json.At(e.expr)) {
        value = v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                              : Compact(*v);
        found = true;
      }
    } else if (e.kind == ::loadd::Extract::Kind::kRegex) {
      found = e.regex->Extract(result.body, RegexMaxBytes(), &value);
    } else if (const std::string* h = FindHeader(result, e.expr)) {
      value = *h;
      found = true;
    }
    engine_->stats().RecordCheck(info.extract_ids[i], found);
    if (!found) return false;
    vars_[e.var] = std::move(value);
  }
  return true;
}

bool ScenarioRunner::OnStepDone(const ExchangeResult& result) {
  const Step& step = scenario().steps[step_];
  const CompiledScenarios::StepInfo& info = compiled_->steps[scenario_][step_];
  KeepCookies(step, result);
  for (size_t i = 0; i < step.checks.size(); ++i) {
    engine_->stats().RecordCheck(info.check_ids[i], RunCheck(step.checks[i], result));
  }
  bool extracted = Extract(step, result);
  if (extracted && step_ + 1 < scenario().steps.size()) {
    ++step_;
    return true;
  }
  // Iteration over (or cut short: later steps need what was not extracted).
  step_ = 0;
  ++iteration_;
  return false;
}

int64_t ScenarioRunner::ThinkNs(int64_t iteration_start_ns, int64_t now_ns) {
  const ThinkTime& t = scenario().think;
  switch (t.kind) {
    case ThinkTime::Kind::kNone:
      return 0;
    case ThinkTime::Kind::kConstant:
      return t.min_ns;
    case ThinkTime::Kind::kUniform:
      return std::uniform_int_distribution<int64_t>(t.min_ns, t.max_ns)(rng_);
    case ThinkTime::Kind::kPacing:
      return std::max<int64_t>(0, iteration_start_ns + t.min_ns - now_ns);
  }
  return 0;
}

}  // namespace loadd
