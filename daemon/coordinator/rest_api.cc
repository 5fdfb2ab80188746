#include "daemon/coordinator/rest_api.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include <charconv>
#include <optional>
#include <string>

#include "common/json.h"
#include "common/log.h"
#include "daemon/coordinator/metrics.h"
#include "daemon/coordinator/rest_handler.h"
#include "daemon/coordinator/rest_tls.h"
#include "daemon/coordinator/static_files.h"

namespace loadd {

struct RestApi::Context {
  Coordinator* coordinator;
  const BearerAuth* auth;
  const LiveLimits* limits;
  LogThrottle refusals;
};

namespace {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;
using Pistache::Rest::Route;
using Context = RestApi::Context;

constexpr int64_t kRefusalLogIntervalNs = 10 * kNsPerSec;
constexpr char kHealthPath[] = "/healthz";

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

// OK when the request carries the bearer token. A refusal is logged (at
// most once per kRefusalLogIntervalNs, never with what was sent).
Status Authorize(Context* c, const Pistache::Http::Request& req) {
  std::optional<Pistache::Http::Header::Raw> header =
      req.headers().tryGetRaw("Authorization");
  if (header && c->auth->Check(header->value())) return Status::Ok();
  if (int64_t n = c->refusals.Admit()) {
    LOG_WARN(
        "REST: refused %lld request(s) without a valid bearer token (latest: %s %s from "
        "%s, "
        "%s)",
        static_cast<long long>(n), Pistache::Http::methodString(req.method()),
        req.resource().substr(0, 100).c_str(), req.address().host().c_str(),
        header ? "wrong token" : "no Authorization header");
  }
  return Status(
      StatusCode::kUnauthenticated,
      header ? "wrong bearer token; use the token in the coordinator's --token-file"
             : "this API needs a bearer token: send `Authorization: Bearer TOKEN` with "
               "the token in the coordinator's --token-file (loadctl reads it from "
               "--token-file, LOADD_TOKEN_FILE or LOADD_TOKEN)");
}

Status BodyTooLarge(size_t bytes, const RunLimits& limits) {
  return Status(
      StatusCode::kResourceExhausted,
      "the request body is " + std::to_string(bytes) +
          " bytes; this coordinator accepts at most " +
          std::to_string(limits.MaxBodyBytes()) + " (" +
          FormatBytes(limits.max_plan_bytes) + " of plan, --max-plan-bytes, plus " +
          FormatBytes(limits.max_data_bytes) + " of data file, --max-data-bytes)");
}

Result<std::string> CreateRun(Context* c, const Request& req) {
  std::shared_ptr<const RunLimits> limits = c->limits->Get();
  const std::string body = req.body();
  if (body.size() > limits->MaxBodyBytes()) return BodyTooLarge(body.size(), *limits);
  return c->coordinator->CreateRun(body, [&](const Plan& plan) {
    Status verdict = CheckRunLimits(plan, body.size(), *limits);
    if (!verdict.ok()) {
      LOG_INFO("REST: plan refused by an operator limit: %s", verdict.ToString().c_str());
    }
    return verdict;
  });
}

// Without the token, only that the coordinator is up; with it, the rest.
std::string Health(Context* c, const Request& req) {
  std::optional<Pistache::Http::Header::Raw> header =
      req.headers().tryGetRaw("Authorization");
  if (header && c->auth->Check(header->value())) return c->coordinator->Health();
  return R"({"status":"ok"})";
}

// One row per route: method, path, whether it needs the token, handler.
struct RouteRow {
  enum Method { kGet, kPost } method;
  const char* path;
  bool open;
  void (*handle)(Context* c, const Request& req, ResponseWriter& response);
};

constexpr RouteRow kRoutes[] = {
    {RouteRow::kGet, kHealthPath, true,
     [](Context* c, const Request& req, ResponseWriter& r) {
       Reply(r, 200, Health(c, req));
     }},
    // The web dashboard (static_files.h): no data, so no token.
    {RouteRow::kGet, kDashboardPath, true,
     [](Context*, const Request& req, ResponseWriter& r) { ServeStaticFile(req, r); }},
    {RouteRow::kGet, "/ui/:file", true,
     [](Context*, const Request& req, ResponseWriter& r) { ServeStaticFile(req, r); }},
    {RouteRow::kGet, "/v1/workers", false,
     [](Context* c, const Request&, ResponseWriter& r) {
       Reply(r, 200, c->coordinator->ListWorkers());
     }},
    {RouteRow::kGet, "/v1/runs", false,
     [](Context* c, const Request&, ResponseWriter& r) {
       Reply(r, 200, c->coordinator->ListRuns());
     }},
    {RouteRow::kPost, "/v1/runs", false,
     [](Context* c, const Request& req, ResponseWriter& r) {
       Reply(r, CreateRun(c, req), 201);
     }},
    {RouteRow::kGet, "/v1/runs/:id", false,
     [](Context* c, const Request& req, ResponseWriter& r) {
       std::optional<std::string> timeline = req.query().get("timeline");
       bool with_timeline = !timeline || (*timeline != "0" && *timeline != "false");
       Result<int64_t> since = ParseSince(req.query().get("since"));
       if (!since.ok()) {
         Reply(r, Result<std::string>(since.status()));
         return;
       }
       Reply(r, c->coordinator->GetRun(req.param(":id").as<std::string>(), with_timeline,
                                       *since));
     }},
    {RouteRow::kGet, "/v1/runs/:id/hlog", false,
     [](Context* c, const Request& req, ResponseWriter& r) {
       ReplyText(r, c->coordinator->GetRunHlog(req.param(":id").as<std::string>()));
     }},
    {RouteRow::kPost, "/v1/runs/:id/stop", false,
     [](Context* c, const Request& req, ResponseWriter& r) {
       Reply(r, c->coordinator->StopRun(req.param(":id").as<std::string>()));
     }},
    {RouteRow::kGet, "/metrics", false,  // Prometheus text format (metrics.h)
     [](Context* c, const Request&, ResponseWriter& r) {
       r.setMime(Pistache::Http::Mime::MediaType::fromString(kMetricsContentType));
       r.send(Code::Ok, RenderMetrics(c->coordinator->Metrics()));
     }},
};

Route::Handler MakeHandler(Context* c, const RouteRow& row) {
  return [c, row](const Request req, ResponseWriter response) {
    Status allowed = row.open ? Status::Ok() : Authorize(c, req);
    if (!allowed.ok()) {
      Reply(response, HttpCodeOf(allowed), ErrorJson(allowed));
      return Route::Result::Ok;
    }
    try {
      row.handle(c, req, response);
    } catch (const std::exception& e) {
      Status internal(StatusCode::kInternal,
                      std::string("unexpected error: ") + e.what());
      LOG_ERROR("REST: %s %s: %s", Pistache::Http::methodString(req.method()),
                req.resource().substr(0, 100).c_str(), internal.message().c_str());
      Reply(response, HttpCodeOf(internal), ErrorJson(internal));
    }
    return Route::Result::Ok;
  };
}

std::shared_ptr<Pistache::Rest::Router> MakeRouter(Context* c) {
  auto router = std::make_shared<Pistache::Rest::Router>();
  for (const RouteRow& row : kRoutes) {
    if (row.method == RouteRow::kGet) {
      Pistache::Rest::Routes::Get(*router, row.path, MakeHandler(c, row));
    } else {
      Pistache::Rest::Routes::Post(*router, row.path, MakeHandler(c, row));
    }
  }
  Pistache::Rest::Routes::NotFound(
      *router, [c](const Request req, ResponseWriter response) {
        Status status = Authorize(c, req);  // unknown paths tell nothing to strangers
        if (status.ok()) {
          status = Status(StatusCode::kNotFound,
                          std::string("no such endpoint: ") +
                              Pistache::Http::methodString(req.method()) + " " +
                              req.resource().substr(0, 200) + " (see docs/rest-api.md)");
        }
        Reply(response, HttpCodeOf(status), ErrorJson(status));
        return Route::Result::Ok;
      });
  return router;
}

// Runs when a request's headers are in and its body is not: strangers and
// oversized bodies are refused before the body is read.
HeadersCheck MakeHeadersCheck(Context* c) {
  return [c](const Pistache::Http::Request& req, size_t content_length) {
    bool open =
        req.resource() == kHealthPath ||
        (req.method() == Pistache::Http::Method::Get && IsStaticPath(req.resource()));
    if (!open) LOADD_RETURN_IF_ERROR(Authorize(c, req));
    std::shared_ptr<const RunLimits> limits = c->limits->Get();
    if (content_length > limits->MaxBodyBytes())
      return BodyTooLarge(content_length, *limits);
    return Status::Ok();
  };
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
  WriteString(&w, status.message());
  if (!status.path().empty()) {
    w.Key("path");
    WriteString(&w, status.path());
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

RestApi::RestApi(Coordinator* coordinator, const BearerAuth* auth,
                 const LiveLimits* limits, const Clock* clock)
    : context_(new Context{coordinator, auth, limits,
                           LogThrottle(clock, kRefusalLogIntervalNs)}) {}

RestApi::~RestApi() { Shutdown(); }

Status RestApi::Serve(const RestOptions& options) {
  Status status;
  try {
    std::shared_ptr<Pistache::Rest::Router> router = MakeRouter(context_.get());
    auto handler =
        std::make_shared<GuardedRouterHandler>(router, MakeHeadersCheck(context_.get()));
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
  if (endpoint_) {
    endpoint_->shutdown();
    endpoint_.reset();
  }
}

}  // namespace loadd
