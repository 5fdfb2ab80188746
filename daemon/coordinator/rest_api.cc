#include "daemon/coordinator/rest_api.h"

#include <malloc.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <charconv>
#include <optional>
#include <string>

#include "common/json.h"
#include "common/log.h"
#include "daemon/coordinator/audit_log.h"
#include "daemon/coordinator/body_budget.h"
#include "daemon/coordinator/compare_view.h"
#include "daemon/coordinator/metrics.h"
#include "daemon/coordinator/plan_intake.h"
#include "daemon/coordinator/rest_audit.h"
#include "daemon/coordinator/rest_handler.h"
#include "daemon/coordinator/rest_routes.h"
#include "daemon/coordinator/rest_tls.h"
#include "daemon/coordinator/static_files.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {

constexpr int64_t kRefusalLogIntervalNs = 10 * kNsPerSec;

// The most plans waiting for the intake thread. Their bytes are bounded by
// the body budget; this bounds their number when they are small.
constexpr size_t kMaxQueuedPlans = 64;
// A plan body this large is followed by malloc_trim once parsed.
constexpr size_t kTrimAfterBytes = size_t{1} << 20;

struct RestApi::Context {
  Context(Coordinator* coordinator, const BearerAuth* auth, const LiveLimits* limits,
          const Clock* clock, AuditLog* audit)
      : coordinator(coordinator),
        auth(auth),
        limits(limits),
        refusals(clock, kRefusalLogIntervalNs),
        audit(audit),
        busy(clock, kRefusalLogIntervalNs) {}

  Coordinator* coordinator;
  const BearerAuth* auth;
  const LiveLimits* limits;
  LogThrottle refusals;
  AuditLog* audit = nullptr;  // may be null
  // Held while a token with a max-runs cap is checked and its run created,
  // so two requests of that token cannot both pass the count.
  Mutex create_mu;
  LogThrottle busy;  // plans refused by the body budget or a full intake
  // Before `intake`: its queued jobs hold leases, given back when they are
  // destroyed.
  BodyBudget bodies;
  PlanIntake intake{kMaxQueuedPlans};
};

namespace {

namespace Http = Pistache::Http;
using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;
using Context = RestApi::Context;

void Reply(ResponseWriter& response, int code, const std::string& body) {
  response.setMime(MIME(Application, Json));
  if (code == 401) {
    response.headers().add(std::make_shared<BearerChallenge>());
  }
  response.send(static_cast<Code>(code), body + "\n");
}

void Reply(ResponseWriter& response, const Result<std::string>& result,
           int ok_code = 200) {
  if (result.ok()) {
    Reply(response, ok_code, *result);
  } else {
    Reply(response, HttpCodeOf(result.status()), ErrorJson(result.status()));
  }
}

// A text/plain reply; errors stay JSON.
void ReplyText(ResponseWriter& response, const Result<std::string>& result) {
  if (!result.ok()) {
    Reply(response, result);
    return;
  }
  response.setMime(MIME(Text, Plain));
  response.send(Code::Ok, *result);
}

// One line of the audit log (audit_log.h) for a request's outcome.
void Audit(Context* c, const Http::Request& req, const std::optional<TokenIdentity>& who,
           std::string_view action, std::string_view run_id, const Status& status) {
  if (c->audit == nullptr) return;
  c->audit->Record(AuditEntryOf(who, req.address().host(), action, run_id, status));
}

// The route table's verdict on a request (rest_routes.h). A refusal for
// the token (401) or its role (403) goes to the audit log; a missing or
// wrong token is also logged (at most once per kRefusalLogIntervalNs,
// never with what was sent).
Status Admit(Context* c, const RouteMatch& match, const Http::Request& req,
             size_t content_length, std::optional<TokenIdentity>* who_out = nullptr) {
  std::optional<TokenIdentity> who;
  Status status =
      AdmitRequest(match, req, content_length, *c->auth, *c->limits->Get(), &who);
  if (who_out != nullptr) *who_out = who;
  if (status.code() == StatusCode::kUnauthenticated ||
      status.code() == StatusCode::kPermissionDenied) {
    Audit(c, req, who, AuditActionOf(match), match.param, status);
  }
  if (status.code() != StatusCode::kUnauthenticated) return status;
  if (int64_t n = c->refusals.Admit()) {
    LOG_WARN(
        "REST: refused %lld request(s) without a valid bearer token (latest: %s %s from "
        "%s, %s)",
        static_cast<long long>(n), Http::methodString(req.method()),
        Printable(req.resource(), 100).c_str(), req.address().host().c_str(),
        AuthorizationOf(req) ? "wrong token" : "no Authorization header");
  }
  return status;
}

// A top-level string field of a small JSON reply, or "".
std::string FieldOf(const std::string& json, const char* key) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return "";
  auto it = doc.FindMember(key);
  return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// Starts a run for `who` (its started_by) within the operator's limits and
// the token's own caps.
Result<std::string> CreateRun(Context* c, const std::string& body,
                              const TokenIdentity& who) {
  std::shared_ptr<const RunLimits> limits = c->limits->Get();
  if (body.size() > limits->MaxBodyBytes()) return BodyTooLarge(body.size(), *limits);
  auto check = [&](const Plan& plan) {
    Status verdict = CheckRunLimits(plan, body.size(), *limits);
    if (verdict.ok()) {
      int64_t active =
          who.caps.max_runs > 0 ? c->coordinator->ActiveRunsStartedBy(who.name) : 0;
      verdict = CheckTokenCaps(plan, who, active);
    }
    if (!verdict.ok()) {
      LOG_INFO("REST: plan of token %s refused by a limit: %s", who.name.c_str(),
               verdict.ToString().c_str());
    }
    return verdict;
  };
  if (who.caps.max_runs == 0) return c->coordinator->CreateRun(body, check, who.name);
  MutexLock lock(&c->create_mu);
  return c->coordinator->CreateRun(body, check, who.name);
}

// A runner stops only the runs it started; an admin any (the route's role,
// rest_routes.h, already kept viewers out).
Result<std::string> StopRun(Context* c, const std::string& id, const TokenIdentity& who) {
  return c->coordinator->StopRun(id, [&](const std::string& started_by) {
    return MayActOnRun(id, started_by, who);
  });
}

// Stopping, answered and written to the audit log.
void Stop(Context* c, const RouteMatch& match, const Http::Request& req,
          const TokenIdentity& who, ResponseWriter& r) {
  Result<std::string> reply = StopRun(c, match.param, who);
  std::string action = AuditActionOf(match);
  // A run stopped before it started ends at once: that is a cancel.
  if (reply.ok() && FieldOf(*reply, "state") == "stopped") action = "cancel";
  Audit(c, req, who, action, match.param, reply.status());
  Reply(r, reply);
}

void LogBusy(Context* c, const Status& status) {
  if (int64_t n = c->busy.Admit()) {
    LOG_WARN("REST: refused %lld plan(s) while busy parsing others (latest: %s)",
             static_cast<long long>(n), status.message().c_str());
  }
}

// Reserves a plan's declared body in the budget of bodies in flight, before
// any of it is read.
Status ReserveBody(Context* c, size_t content_length, BodyLease* lease) {
  size_t budget_bytes = c->limits->Get()->max_parsing_bytes;
  Status reserved = c->bodies.Reserve(content_length, budget_bytes, lease);
  if (!reserved.ok()) LogBusy(c, reserved);
  return reserved;
}

// POST /v1/runs: the plan is parsed and its run created on the intake's
// thread, answered and written to the audit log from there; its body and
// its reservation are given back as soon as it is parsed.
void CreateRunLater(Context* c, RestCall* call, const TokenIdentity& who,
                    const std::string& action) {
  struct Pending {
    std::string body;
    BodyLease lease;
    std::shared_ptr<LaterReply> reply;
    TokenIdentity who;
    std::string address;
    std::string action;
  };
  auto pending = std::make_shared<Pending>(
      Pending{std::move(call->body), std::move(call->lease), call->defer(), who,
              call->request.address().host(), action});
  bool queued = c->intake.Submit([c, pending] {
    Result<std::string> created = CreateRun(c, pending->body, pending->who);
    bool large = pending->body.size() >= kTrimAfterBytes;
    pending->body = std::string();
    pending->lease.Release();
    // glibc keeps the megabytes a parse freed in this thread's arena (and
    // the reader's, on the REST threads); give them back to the system.
    if (large) malloc_trim(0);
    if (c->audit != nullptr) {
      c->audit->Record(AuditEntryOf(pending->who, pending->address, pending->action,
                                    created.ok() ? FieldOf(*created, "id") : "",
                                    created.status()));
    }
    if (created.ok()) {
      pending->reply->Send(201, *created);
    } else {
      pending->reply->Send(HttpCodeOf(created.status()), ErrorJson(created.status()));
    }
  });
  if (!queued) {
    Status busy(StatusCode::kUnavailable,
                "the coordinator has " + std::to_string(kMaxQueuedPlans) +
                    " plans waiting to be parsed (see --max-parsing-bytes): nothing "
                    "changed, try again in a moment");
    LogBusy(c, busy);
    pending->reply->Send(HttpCodeOf(busy), ErrorJson(busy));
  }
}

// Without the token, only that the coordinator is up; with it, the rest.
std::string Health(Context* c, const Http::Request& req) {
  std::optional<std::string> header = AuthorizationOf(req);
  if (header && c->auth->Check(*header)) return c->coordinator->Health();
  return R"({"status":"ok"})";
}

void GetRun(Context* c, const Http::Request& req, const std::string& id,
            ResponseWriter& r) {
  std::optional<std::string> timeline = req.query().get("timeline");
  bool with_timeline = !timeline || (*timeline != "0" && *timeline != "false");
  Result<int64_t> since = ParseSince(req.query().get("since"));
  if (!since.ok()) {
    Reply(r, Result<std::string>(since.status()));
    return;
  }
  Reply(r, c->coordinator->GetRun(id, with_timeline, *since));
}

void Compare(Context* c, const Http::Request& req, ResponseWriter& r) {
  Result<CompareRequest> request =
      ParseCompareQuery([&](const char* name) { return req.query().get(name); });
  if (!request.ok()) return Reply(r, Result<std::string>(request.status()));
  Reply(r, CompareRunsJson(c->coordinator, *request));
}

// One case per row of kRoutes (rest_routes.h); the compiler checks that
// none is missing.
void Handle(Context* c, const RouteMatch& match, RestCall* call,
            const std::optional<TokenIdentity>& who) {
  const Http::Request& req = call->request;
  ResponseWriter& r = call->response;
  switch (match.rule->id) {
    case RouteId::kHealth:
      return Reply(r, 200, Health(c, req));
    case RouteId::kDashboard:
      return ServeStaticFile(req, "index.html", r);
    case RouteId::kDashboardFile:
      return ServeStaticFile(req, match.param, r);
    case RouteId::kWorkers:
      return Reply(r, 200, c->coordinator->ListWorkers());
    case RouteId::kRuns:
      return Reply(r, 200, c->coordinator->ListRuns());
    // Both need the token (rest_routes.h), so `who` is known.
    case RouteId::kCreateRun:
      return CreateRunLater(c, call, who.value_or(TokenIdentity{}), AuditActionOf(match));
    case RouteId::kStopRun:
      return Stop(c, match, req, who.value_or(TokenIdentity{}), r);
    case RouteId::kRun:
      return GetRun(c, req, match.param, r);
    case RouteId::kRunHlog:
      return ReplyText(r, c->coordinator->GetRunHlog(match.param));
    case RouteId::kMetrics:
      r.setMime(Http::Mime::MediaType::fromString(kMetricsContentType));
      r.send(Code::Ok, RenderMetrics(c->coordinator->Metrics()));
      return;
    case RouteId::kCompare:
      return Compare(c, req, r);
  }
}

// Runs when a request's line and headers are in: the route table's verdict,
// and for a plan the reservation of its body.
Status CheckHeaders(Context* c, const Http::Request& req, size_t content_length,
                    BodyLease* lease) {
  RouteMatch match = MatchRoute(req.method(), req.resource());
  Status admitted = Admit(c, match, req, content_length);
  if (!admitted.ok() || match.rule->body != RouteBody::kPlan || content_length == 0) {
    return admitted;
  }
  return ReserveBody(c, content_length, lease);
}

// Answers a complete request. The route table admitted its headers before
// its body was read; it is asked again with the body's real size (and a
// token that SIGHUP may have changed since).
void DispatchRequest(Context* c, RestCall* call) {
  const Http::Request& req = call->request;
  RouteMatch match = MatchRoute(req.method(), req.resource());
  std::optional<TokenIdentity> who;
  Status admitted = Admit(c, match, req, call->body.size(), &who);
  ResponseWriter& response = call->response;
  if (!admitted.ok()) {
    Reply(response, HttpCodeOf(admitted), ErrorJson(admitted));
    return;
  }
  try {
    Handle(c, match, call, who);
  } catch (const std::exception& e) {
    Status internal(StatusCode::kInternal, std::string("unexpected error: ") + e.what());
    LOG_ERROR("REST: %s %s: %s", Http::methodString(req.method()),
              Printable(req.resource(), 100).c_str(), internal.message().c_str());
    Reply(response, HttpCodeOf(internal), ErrorJson(internal));
  }
}

// U+FFFD for every byte that does not belong to a well-formed UTF-8
// sequence: error messages quote what clients sent (a run id, a path).
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len != 0 && i + len <= text.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len > 1) {
      uint32_t cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (text[i + k] & 0x3F);
      constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

Result<int64_t> ParseSince(const std::optional<std::string>& value) {
  if (!value) return int64_t{0};
  // Up to 12 digits' worth: over 31,000 years of seconds.
  constexpr uint64_t kMaxSince = 999'999'999'999;
  uint64_t since = 0;
  const char* end = value->data() + value->size();
  auto [stop, error] = std::from_chars(value->data(), end, since);
  if (value->empty() || error != std::errc() || stop != end || since > kMaxSince) {
    std::string shown = value->substr(0, 40);
    return Status::Invalid("since",
                           "query parameter since must be a whole number of "
                           "seconds from 0 (the first timeline second wanted), "
                           "got \"" +
                               shown + (value->size() > 40 ? "...\"" : "\""));
  }
  return static_cast<int64_t>(since);
}

int HttpCodeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string ErrorJson(const Status& status) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  w.String(StatusCodeName(status.code()));
  w.Key("message");
  WriteString(&w, ValidUtf8(status.message()));
  if (!status.path().empty()) {
    w.Key("path");
    WriteString(&w, ValidUtf8(status.path()));
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

RestApi::RestApi(Coordinator* coordinator, const BearerAuth* auth,
                 const LiveLimits* limits, const Clock* clock, AuditLog* audit)
    : context_(std::make_unique<Context>(coordinator, auth, limits, clock, audit)) {}

RestApi::~RestApi() { Shutdown(); }

Status RestApi::Serve(const RestOptions& options) {
  Status status;
  try {
    Context* c = context_.get();
    auto handler = std::make_shared<GuardedHandler>(
        [c](const Http::Request& req, size_t content_length, BodyLease* lease) {
          return CheckHeaders(c, req, content_length, lease);
        },
        [c](RestCall* call) { DispatchRequest(c, call); });
    endpoint_ =
        std::make_shared<Pistache::Http::Endpoint>(Pistache::Address(options.address));
    auto opts = Pistache::Http::Endpoint::options()
                    .threads(options.threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .maxRequestSize(options.max_body_bytes + kMaxRestHeaderBytes)
                    .maxResponseSize(64 << 20)
                    .headerTimeout(std::chrono::milliseconds(options.header_timeout_ms))
                    .bodyTimeout(std::chrono::milliseconds(options.body_timeout_ms))
                    .keepaliveTimeout(std::chrono::milliseconds(options.idle_timeout_ms));
    endpoint_->init(opts);
    status = UseTls(options, endpoint_.get());
    if (status.ok()) {
      endpoint_->setHandler(handler);
      endpoint_->serveThreaded();
    }
  } catch (const std::exception& e) {
    status =
        Status(StatusCode::kUnavailable,
               "cannot serve REST on " + options.address + ": " + e.what(), "--rest");
  }
  if (!status.ok()) endpoint_.reset();
  return status;
}

void RestApi::Shutdown() {
  // First: no job answers through a transport that is gone.
  context_->intake.Stop();
  if (endpoint_) {
    endpoint_->shutdown();
    endpoint_.reset();
  }
}

}  // namespace loadd
