#include "ctl/api_calls.h"

namespace loadd {
namespace {

constexpr size_t kMaxRunIdBytes = 128;

bool IsRunIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

}  // namespace

Status CheckRunId(const std::string& id) {
  if (id.empty() || id.size() > kMaxRunIdBytes) {
    return Status::Invalid("RUN", "must be a run id such as r1700000000-3f2a");
  }
  for (char c : id) {
    if (!IsRunIdChar(c)) {
      return Status::Invalid("RUN",
                             "\"" + id + "\" is not a run id (letters, digits, . _ -)");
    }
  }
  return Status::Ok();
}

Status CreateRun(ApiClient* api, const std::string& plan_json, JsonReply* reply,
                 std::string* id) {
  LOADD_RETURN_IF_ERROR(PostJson(api, "/v1/runs", plan_json, reply));
  auto it = reply->doc.FindMember("id");
  if (it == reply->doc.MemberEnd() || !it->value.IsString() ||
      !CheckRunId(it->value.GetString()).ok()) {
    return Status(StatusCode::kInternal,
                  "POST " + api->BaseUrl() + "/v1/runs: the answer has no valid run id");
  }
  *id = it->value.GetString();
  return Status::Ok();
}

Status FetchRun(ApiClient* api, const std::string& id, bool timeline, JsonReply* reply,
                RunView* run) {
  LOADD_RETURN_IF_ERROR(CheckRunId(id));
  LOADD_RETURN_IF_ERROR(
      GetJson(api, "/v1/runs/" + id + (timeline ? "" : "?timeline=0"), reply));
  return ParseRunView(reply->doc, run);
}

Status FetchHlog(ApiClient* api, const std::string& id, std::string* hlog) {
  LOADD_RETURN_IF_ERROR(CheckRunId(id));
  return GetText(api, "/v1/runs/" + id + "/hlog", hlog);
}

Status FetchRuns(ApiClient* api, JsonReply* reply, std::vector<RunSummary>* runs,
                 const RunFilter& filter) {
  std::string query = RunFilterQuery(filter);
  LOADD_RETURN_IF_ERROR(
      GetJson(api, query.empty() ? "/v1/runs" : "/v1/runs?" + query, reply));
  return ParseRunList(reply->doc, runs);
}

Status FetchWorkers(ApiClient* api, JsonReply* reply, std::vector<WorkerView>* workers) {
  LOADD_RETURN_IF_ERROR(GetJson(api, "/v1/workers", reply));
  return ParseWorkerList(reply->doc, workers);
}

Status FetchLiveWorkers(ApiClient* api, int64_t* live) {
  JsonReply reply;
  LOADD_RETURN_IF_ERROR(GetJson(api, "/healthz", &reply));
  auto it = reply.doc.FindMember("workers");
  if (it == reply.doc.MemberEnd() || !it->value.IsInt64()) {
    return Status(
        StatusCode::kInternal,
        "GET " + api->BaseUrl() + "/healthz: the answer has no \"workers\" count");
  }
  *live = it->value.GetInt64();
  return Status::Ok();
}

Status ScaleRun(ApiClient* api, const std::string& id, const std::string& body,
                JsonReply* reply) {
  LOADD_RETURN_IF_ERROR(CheckRunId(id));
  return PatchJson(api, "/v1/runs/" + id, body, reply);
}

Status StopRun(ApiClient* api, const std::string& id, JsonReply* reply) {
  LOADD_RETURN_IF_ERROR(CheckRunId(id));
  return PostJson(api, "/v1/runs/" + id + "/stop", "{}", reply);
}

}  // namespace loadd
