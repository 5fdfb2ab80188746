#include "daemon/coordinator/rest_api.h"

#include <malloc.h>
#include <pistache/endpoint.h>

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>

#include "common/json.h"
#include "common/log.h"
#include "common/run_filter.h"
#include "daemon/coordinator/audit_log.h"
#include "daemon/coordinator/body_budget.h"
#include "daemon/coordinator/compare_view.h"
#include "daemon/coordinator/metrics.h"
#include "daemon/coordinator/plan_intake.h"
#include "daemon/coordinator/rest_audit.h"
#include "daemon/coordinator/rest_pistache.h"
#include "daemon/coordinator/rest_reader.h"
#include "daemon/coordinator/rest_routes.h"
#include "daemon/coordinator/rest_tls.h"
#include "daemon/coordinator/run_state.h"
#include "daemon/coordinator/scale_request.h"
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
using Context = RestApi::Context;

RestResponse ErrorResponse(const Status& status) {
  RestResponse response = JsonResponse(HttpCodeOf(status), ErrorJson(status));
  if (status.code() == StatusCode::kUnauthenticated) {
    response.headers.push_back({"WWW-Authenticate", "Bearer"});
  }
  if (status.code() == StatusCode::kUnavailable) {
    response.headers.push_back({"Retry-After", "1"});
  }
  return response;
}

RestResponse ResultResponse(const Result<std::string>& result, int ok_code = 200) {
  return result.ok() ? JsonResponse(ok_code, *result) : ErrorResponse(result.status());
}

// A text answer of `content_type`; errors stay JSON.
RestResponse TextResponse(const Result<std::string>& result, std::string content_type) {
  if (!result.ok()) return ErrorResponse(result.status());
  RestResponse response;
  response.content_type = std::move(content_type);
  response.body = *result;
  return response;
}

// One line of the audit log (audit_log.h) for a request's outcome.
void Audit(Context* c, const RestRequest& req, const std::optional<TokenIdentity>& who,
           std::string_view action, std::string_view run_id, const Status& status) {
  if (c->audit == nullptr) return;
  c->audit->Record(AuditEntryOf(who, req.peer, action, run_id, status));
}

// The route table's verdict on a request (rest_routes.h). A refusal for
// the token (401) or its role (403) goes to the audit log; a missing or
// wrong token is also logged (at most once per kRefusalLogIntervalNs,
// never with what was sent).
Status Admit(Context* c, const RouteMatch& match, const RestRequest& req,
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
        static_cast<long long>(n), Http::methodString(req.method),
        Printable(req.resource, 100).c_str(), req.peer.c_str(),
        req.Header("Authorization") ? "wrong token" : "no Authorization header");
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

// Creating a run, written to the audit log.
Result<std::string> CreateRunAudited(Context* c, const std::string& body,
                                     const TokenIdentity& who, const std::string& address,
                                     const std::string& action) {
  Result<std::string> created = CreateRun(c, body, who);
  if (c->audit != nullptr) {
    c->audit->Record(AuditEntryOf(who, address, action,
                                  created.ok() ? FieldOf(*created, "id") : "",
                                  created.status()));
  }
  return created;
}

// A runner stops only the runs it started; an admin any (the route's role,
// rest_routes.h, already kept viewers out).
Result<std::string> StopRun(Context* c, const std::string& id, const TokenIdentity& who) {
  return c->coordinator->StopRun(id, [&](const std::string& started_by) {
    return MayActOnRun(id, started_by, who);
  });
}

// Stopping, answered and written to the audit log.
RestResponse Stop(Context* c, const RouteMatch& match, const RestRequest& req,
                  const TokenIdentity& who) {
  Result<std::string> reply = StopRun(c, match.param, who);
  std::string action = AuditActionOf(match);
  // A run stopped before it started ends at once: that is a cancel.
  if (reply.ok() && FieldOf(*reply, "state") == "stopped") action = "cancel";
  Audit(c, req, who, action, match.param, reply.status());
  return ResultResponse(reply);
}

// "users 300": a level for the audit log.
std::string Level(const char* unit, double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%s %.15g", unit, value);
  return text;
}

// PATCH /v1/runs/{id}: live scaling within the operator's limits and the
// token's caps; a runner scales only the runs it started. Written to the
// audit log with the levels, refused attempts too.
RestResponse Scale(Context* c, const RouteMatch& match, const RestRequest& req,
                   const TokenIdentity& who) {
  Result<ScaleRequest> request = ParseScaleRequest(req.body);
  Result<std::string> reply = request.status();
  if (request.ok()) {
    Status allowed = CheckScaleLimits(*request, *c->limits->Get(), who);
    if (allowed.ok()) {
      reply = c->coordinator->ScaleRun(
          match.param, *request,
          [&](const std::string& started_by) {
            return MayActOnRun(match.param, started_by, who);
          },
          who.name);
    } else {
      reply = allowed;
    }
  }
  if (c->audit != nullptr) {
    AuditEntry entry =
        AuditEntryOf(who, req.peer, AuditActionOf(match), match.param, reply.status());
    if (request.ok()) entry.to = Level(request->unit(), request->value);
    if (reply.ok()) {
      rapidjson::Document doc;
      doc.Parse(reply->data(), reply->size());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("event") &&
          doc["event"].IsObject() && doc["event"].HasMember("from") &&
          doc["event"]["from"].IsNumber()) {
        entry.from = Level(request->unit(), doc["event"]["from"].GetDouble());
      }
    }
    c->audit->Record(entry);
  }
  return ResultResponse(reply);
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

// POST /v1/runs on the REST threads: the plan is parsed and its run
// created on the intake's thread, answered and written to the audit log
// from there; its body and its reservation are given back as soon as it is
// parsed.
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
  auto pending = std::make_shared<Pending>(Pending{std::move(call->request.body),
                                                   std::move(call->lease), call->defer(),
                                                   who, call->request.peer, action});
  bool queued = c->intake.Submit([c, pending] {
    Result<std::string> created = CreateRunAudited(c, pending->body, pending->who,
                                                   pending->address, pending->action);
    bool large = pending->body.size() >= kTrimAfterBytes;
    pending->body = std::string();
    pending->lease.Release();
    // glibc keeps the megabytes a parse freed in this thread's arena (and
    // the reader's, on the REST threads); give them back to the system.
    if (large) malloc_trim(0);
    if (created.ok() && FieldOf(*created, "state") == "queued") {
      // 202: accepted into the run queue, not started (docs/rest-api.md).
      pending->reply->Send(JsonResponse(202, *created));
    } else {
      pending->reply->Send(ResultResponse(created, 201));
    }
  });
  if (!queued) {
    Status busy(StatusCode::kUnavailable,
                "the coordinator has " + std::to_string(kMaxQueuedPlans) +
                    " plans waiting to be parsed (see --max-parsing-bytes): nothing "
                    "changed, try again in a moment");
    LogBusy(c, busy);
    pending->reply->Send(ErrorResponse(busy));
  }
}

// Without the token, only that the coordinator is up; with it, the rest.
std::string Health(Context* c, const RestRequest& req) {
  std::optional<std::string> header = req.Header("Authorization");
  if (header && c->auth->Check(*header)) return c->coordinator->Health();
  return R"({"status":"ok"})";
}

RestResponse GetRun(Context* c, const RestRequest& req, const std::string& id) {
  std::optional<std::string> timeline = req.Query("timeline");
  bool with_timeline = !timeline || (*timeline != "0" && *timeline != "false");
  Result<int64_t> since = ParseSince(req.Query("since"));
  if (!since.ok()) return ErrorResponse(since.status());
  return ResultResponse(c->coordinator->GetRun(id, with_timeline, *since));
}

// The filter of GET /v1/runs from its query (common/run_filter.h):
// label=KEY=VALUE (all must match) and state=STATE (any may), each
// repeatable or comma-separated; another parameter is refused, by name.
Result<RunFilter> RunsFilterOf(const RestRequest& req) {
  RunFilter filter;
  auto known = [](std::string_view s) { return RunStateFromName(s).has_value(); };
  for (const RestField& q : req.query) {
    Status st;
    if (q.name == "label") {
      st = AddFilterLabels(q.value, "label", &filter);
    } else if (q.name == "state") {
      st = AddFilterStates(q.value, "state", known, RunStateNameList(), &filter);
    } else {
      st = Status::Invalid("\"" + Printable(q.name, 40) + "\"",
                           "unknown; GET /v1/runs takes label=KEY=VALUE and state=STATE");
    }
    if (!st.ok()) {
      return Status::Invalid(Printable(q.name, 40), "query parameter " + st.ToString());
    }
  }
  return filter;
}

RestResponse ListRuns(Context* c, const RestRequest& req) {
  Result<RunFilter> filter = RunsFilterOf(req);
  if (!filter.ok()) return ErrorResponse(filter.status());
  return JsonResponse(200, c->coordinator->ListRuns(*filter));
}

RestResponse Compare(Context* c, const RestRequest& req) {
  Result<CompareRequest> request =
      ParseCompareQuery([&](const char* name) { return req.Query(name); });
  if (!request.ok()) return ErrorResponse(request.status());
  return ResultResponse(CompareRunsJson(c->coordinator, *request));
}

// One case per row of kRoutes (rest_routes.h); the compiler checks that
// none is missing. POST /v1/runs is parsed here, on the caller's thread
// (the REST threads hand it to the intake instead: DispatchRequest).
RestResponse Handle(Context* c, const RouteMatch& match, const RestRequest& req,
                    const std::optional<TokenIdentity>& who) {
  switch (match.rule->id) {
    case RouteId::kHealth:
      return JsonResponse(200, Health(c, req));
    case RouteId::kDashboard:
      return StaticFileResponse("index.html", req.Header("If-None-Match"));
    case RouteId::kDashboardFile:
      return StaticFileResponse(match.param, req.Header("If-None-Match"));
    case RouteId::kWorkers:
      return JsonResponse(200, c->coordinator->ListWorkers());
    case RouteId::kRuns:
      return ListRuns(c, req);
    // Both need the token (rest_routes.h), so `who` is known.
    case RouteId::kCreateRun:
      return ResultResponse(CreateRunAudited(c, req.body, who.value_or(TokenIdentity{}),
                                             req.peer, AuditActionOf(match)),
                            201);
    case RouteId::kStopRun:
      return Stop(c, match, req, who.value_or(TokenIdentity{}));
    case RouteId::kScaleRun:
      return Scale(c, match, req, who.value_or(TokenIdentity{}));
    case RouteId::kRun:
      return GetRun(c, req, match.param);
    case RouteId::kRunHlog:
      return TextResponse(c->coordinator->GetRunHlog(match.param), "text/plain");
    case RouteId::kMetrics:
      return TextResponse(RenderMetrics(c->coordinator->Metrics()), kMetricsContentType);
    case RouteId::kCompare:
      return Compare(c, req);
  }
  return ErrorResponse(Status(StatusCode::kInternal, "unknown route"));
}

RestResponse HandleCaught(Context* c, const RouteMatch& match, const RestRequest& req,
                          const std::optional<TokenIdentity>& who) {
  try {
    return Handle(c, match, req, who);
  } catch (const std::exception& e) {
    Status internal(StatusCode::kInternal, std::string("unexpected error: ") + e.what());
    LOG_ERROR("REST: %s %s: %s", Http::methodString(req.method),
              Printable(req.resource, 100).c_str(), internal.message().c_str());
    return ErrorResponse(internal);
  }
}

// Runs when a request's line and headers are in: the route table's verdict,
// and for a plan the reservation of its body.
Status CheckHeaders(Context* c, const RestRequest& req, size_t content_length,
                    BodyLease* lease) {
  RouteMatch match = MatchRoute(req.method, req.resource);
  Status admitted = Admit(c, match, req, content_length);
  if (!admitted.ok() || match.rule->body != RouteBody::kPlan || content_length == 0) {
    return admitted;
  }
  return ReserveBody(c, content_length, lease);
}

// Answers a complete request read by the REST server (rest_pistache.h):
// now, or (a plan) later from the intake's thread. The route table
// admitted its headers before its body was read; it is asked again with
// the body's real size (and a token that SIGHUP may have changed since).
std::optional<RestResponse> DispatchRequest(Context* c, RestCall* call) {
  const RestRequest& req = call->request;
  RouteMatch match = MatchRoute(req.method, req.resource);
  std::optional<TokenIdentity> who;
  Status admitted = Admit(c, match, req, req.body.size(), &who);
  if (!admitted.ok()) return ErrorResponse(admitted);
  if (match.rule->id == RouteId::kCreateRun) {
    CreateRunLater(c, call, who.value_or(TokenIdentity{}), AuditActionOf(match));
    return std::nullopt;
  }
  return HandleCaught(c, match, req, who);
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

RestApi::RestApi(Coordinator* coordinator, const BearerAuth* auth,
                 const LiveLimits* limits, const Clock* clock, AuditLog* audit)
    : context_(std::make_unique<Context>(coordinator, auth, limits, clock, audit)) {}

RestApi::~RestApi() { Shutdown(); }

RestResponse RestApi::Handle(const RestRequest& request) {
  Context* c = context_.get();
  RouteMatch match = MatchRoute(request.method, request.resource);
  std::optional<TokenIdentity> who;
  Status admitted = Admit(c, match, request, request.body.size(), &who);
  if (!admitted.ok()) return ErrorResponse(admitted);
  return HandleCaught(c, match, request, who);
}

Status RestApi::Serve(const RestOptions& options) {
  Status status;
  try {
    Context* c = context_.get();
    std::shared_ptr<Pistache::Http::Handler> handler = MakeRestHandler(
        [c](const RestRequest& req, size_t content_length, BodyLease* lease) {
          return CheckHeaders(c, req, content_length, lease);
        },
        [c](RestCall* call) { return DispatchRequest(c, call); });
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
