#include "ctl/api_client.h"

#include "common/json.h"
#include "common/plan.h"

namespace loadd {
namespace {

// The answer may be large (a long run's timeline); the depth bound is what
// protects us, not the size.
constexpr int kMaxJsonDepth = 64;

StatusCode CodeFromName(const std::string& name) {
  constexpr StatusCode kCodes[] = {StatusCode::kInvalidArgument,
                                   StatusCode::kNotFound,
                                   StatusCode::kFailedPrecondition,
                                   StatusCode::kResourceExhausted,
                                   StatusCode::kUnauthenticated,
                                   StatusCode::kPermissionDenied,
                                   StatusCode::kUnavailable,
                                   StatusCode::kDeadlineExceeded,
                                   StatusCode::kInternal};
  for (StatusCode code : kCodes) {
    if (name == StatusCodeName(code)) return code;
  }
  return StatusCode::kOk;  // unknown name: the caller falls back to the HTTP status
}

StatusCode CodeFromHttpStatus(int status) {
  switch (status) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kFailedPrecondition;
    case 413:
    case 429:
      return StatusCode::kResourceExhausted;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kDeadlineExceeded;
    default:
      return StatusCode::kInternal;
  }
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Status CheckReply(const std::string& what, const Result<HttpReply>& reply,
                  const std::string& hint, JsonReply* out) {
  if (!reply.ok()) return reply.status();
  if (reply->status < 200 || reply->status > 299) {
    return StatusFromErrorReply(what, *reply, hint);
  }
  Status parsed = ParseJson(reply->body, &out->doc, kMaxJsonDepth);
  if (!parsed.ok() || !out->doc.IsObject()) {
    return Status(StatusCode::kInternal,
                  what + ": unexpected answer (HTTP " + std::to_string(reply->status) +
                      "): expected a JSON object" +
                      (parsed.ok() ? "" : " (" + parsed.message() + ")"));
  }
  out->body = reply->body;
  return Status::Ok();
}

Status StatusFromErrorReplyBody(const std::string& what, const HttpReply& reply) {
  rapidjson::Document doc;
  StatusCode code = StatusCode::kOk;
  std::string message, path;
  if (ParseJson(reply.body, &doc).ok() && doc.IsObject() && doc.HasMember("error") &&
      doc["error"].IsObject()) {
    const rapidjson::Value& error = doc["error"];
    code = CodeFromName(StringMember(error, "code"));
    message = StringMember(error, "message");
    path = StringMember(error, "path");
  }
  if (code == StatusCode::kOk) code = CodeFromHttpStatus(reply.status);
  if (message.empty()) {
    message = what + ": unexpected answer HTTP " + std::to_string(reply.status);
    std::string excerpt = reply.body.substr(0, 200);
    if (!excerpt.empty()) message += ": " + excerpt;
    return Status(code, message);
  }
  // A 400 (bad plan) or 403 (an operator limit) names the field at fault;
  // people need only that and the reason. Other errors name the request
  // instead (their path, e.g. "id", adds nothing).
  if ((code == StatusCode::kInvalidArgument || code == StatusCode::kPermissionDenied) &&
      !path.empty()) {
    return Status(code, message, path);
  }
  // The run queue's refusals keep theirs: the exit code tells them apart.
  if (path == kQueueFieldPath || path == kMaxQueuedFlag) {
    return Status(code, what + ": " + message, path);
  }
  return Status(code, what + ": " + message);
}

}  // namespace

Status StatusFromErrorReply(const std::string& what, const HttpReply& reply,
                            const std::string& auth_hint) {
  Status status = StatusFromErrorReplyBody(what, reply);
  if (reply.status != 401 || auth_hint.empty()) return status;
  return Status(StatusCode::kUnauthenticated, status.message() + "; " + auth_hint);
}

Status GetJson(ApiClient* api, const std::string& path, JsonReply* reply) {
  return CheckReply("GET " + api->BaseUrl() + path, api->Get(path), api->AuthHint(),
                    reply);
}

Status GetText(ApiClient* api, const std::string& path, std::string* body) {
  Result<HttpReply> reply = api->Get(path);
  if (!reply.ok()) return reply.status();
  if (reply->status < 200 || reply->status > 299) {
    return StatusFromErrorReply("GET " + api->BaseUrl() + path, *reply, api->AuthHint());
  }
  *body = std::move(reply->body);
  return Status::Ok();
}

Status PostJson(ApiClient* api, const std::string& path, const std::string& body,
                JsonReply* reply) {
  return CheckReply("POST " + api->BaseUrl() + path, api->Post(path, body),
                    api->AuthHint(), reply);
}

Status PatchJson(ApiClient* api, const std::string& path, const std::string& body,
                 JsonReply* reply) {
  return CheckReply("PATCH " + api->BaseUrl() + path, api->Patch(path, body),
                    api->AuthHint(), reply);
}

}  // namespace loadd
