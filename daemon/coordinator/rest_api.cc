#include "daemon/coordinator/rest_api.h"

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/router.h>

#include "common/json.h"
#include "common/log.h"

namespace loadd {
namespace {

using Pistache::Http::Code;
using Pistache::Http::ResponseWriter;
using Pistache::Rest::Request;
using Pistache::Rest::Route;

void Reply(ResponseWriter& response, int code, const std::string& body) {
  response.setMime(MIME(Application, Json));
  response.send(static_cast<Code>(code), body + "\n");
}

void Reply(ResponseWriter& response, const Result<std::string>& result, int ok_code = 200) {
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

// One row per route: method, path, handler.
struct RouteRow {
  enum Method { kGet, kPost } method;
  const char* path;
  void (*handle)(Coordinator* c, const Request& req, ResponseWriter& response);
};

constexpr RouteRow kRoutes[] = {
    {RouteRow::kGet, "/healthz",
     [](Coordinator* c, const Request&, ResponseWriter& r) { Reply(r, 200, c->Health()); }},
    {RouteRow::kGet, "/v1/workers",
     [](Coordinator* c, const Request&, ResponseWriter& r) { Reply(r, 200, c->ListWorkers()); }},
    {RouteRow::kGet, "/v1/runs",
     [](Coordinator* c, const Request&, ResponseWriter& r) { Reply(r, 200, c->ListRuns()); }},
    {RouteRow::kPost, "/v1/runs",
     [](Coordinator* c, const Request& req, ResponseWriter& r) {
       Reply(r, c->CreateRun(req.body()), 201);
     }},
    {RouteRow::kGet, "/v1/runs/:id",
     [](Coordinator* c, const Request& req, ResponseWriter& r) {
       std::optional<std::string> timeline = req.query().get("timeline");
       bool with_timeline = !timeline || (*timeline != "0" && *timeline != "false");
       Reply(r, c->GetRun(req.param(":id").as<std::string>(), with_timeline));
     }},
    {RouteRow::kGet, "/v1/runs/:id/hlog",
     [](Coordinator* c, const Request& req, ResponseWriter& r) {
       ReplyText(r, c->GetRunHlog(req.param(":id").as<std::string>()));
     }},
    {RouteRow::kPost, "/v1/runs/:id/stop",
     [](Coordinator* c, const Request& req, ResponseWriter& r) {
       Reply(r, c->StopRun(req.param(":id").as<std::string>()));
     }},
};

}  // namespace

int HttpCodeOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kInternal: return 500;
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

RestApi::~RestApi() { Shutdown(); }

Status RestApi::Serve(const std::string& address, int threads) {
  try {
    auto router = std::make_shared<Pistache::Rest::Router>();
    for (const RouteRow& row : kRoutes) {
      auto handle = row.handle;
      Coordinator* c = coordinator_;
      Route::Handler h = [c, handle](const Request req, ResponseWriter response) {
        handle(c, req, response);
        return Route::Result::Ok;
      };
      if (row.method == RouteRow::kGet) {
        Pistache::Rest::Routes::Get(*router, row.path, h);
      } else {
        Pistache::Rest::Routes::Post(*router, row.path, h);
      }
    }
    Pistache::Rest::Routes::NotFound(*router, [](const Request req, ResponseWriter response) {
      Reply(response, 404,
            ErrorJson(Status(StatusCode::kNotFound, "no such endpoint: " + req.resource())));
      return Route::Result::Ok;
    });
    endpoint_ = std::make_shared<Pistache::Http::Endpoint>(Pistache::Address(address));
    auto opts = Pistache::Http::Endpoint::options()
                    .threads(threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .maxRequestSize(kMaxRestBodyBytes + 16 * 1024)
                    .maxResponseSize(64 << 20)
                    .headerTimeout(std::chrono::seconds(10))
                    .bodyTimeout(std::chrono::seconds(30));
    endpoint_->init(opts);
    endpoint_->setHandler(router->handler());
    endpoint_->serveThreaded();
    router_ = router;
  } catch (const std::exception& e) {
    endpoint_.reset();
    return Status(StatusCode::kUnavailable,
                  "cannot serve REST on " + address + ": " + e.what(), "--rest");
  }
  return Status::Ok();
}

void RestApi::Shutdown() {
  if (endpoint_) {
    endpoint_->shutdown();
    endpoint_.reset();
  }
}

}  // namespace loadd
