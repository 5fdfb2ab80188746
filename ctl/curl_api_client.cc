#include "ctl/curl_api_client.h"

#include <curl/curl.h>

#include <mutex>
#include <string_view>

namespace loadd {
namespace {

constexpr char kDefaultCoordinator[] = "http://127.0.0.1:8089";

struct Sink {
  std::string body;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  Sink* sink = static_cast<Sink*>(user);
  size_t bytes = size * count;
  if (sink->body.size() + bytes > CurlApiClient::kMaxBodyBytes) {
    sink->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body.append(data, bytes);
  return bytes;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

CurlApiClient::CurlApiClient(std::string base_url, Credentials credentials)
    : base_url_(std::move(base_url)), credentials_(std::move(credentials)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  InitCurlOnce();
  curl_ = curl_easy_init();
}

CurlApiClient::~CurlApiClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<HttpReply> CurlApiClient::Get(const std::string& path) {
  return Perform("GET", path, nullptr);
}

Result<HttpReply> CurlApiClient::Post(const std::string& path, const std::string& body) {
  return Perform("POST", path, &body);
}

Result<HttpReply> CurlApiClient::Patch(const std::string& path, const std::string& body) {
  return Perform("PATCH", path, &body);
}

Result<HttpReply> CurlApiClient::Perform(const char* method, const std::string& path,
                                         const std::string* body) {
  std::string url = base_url_ + path;
  std::string what = std::string(method) + " " + url;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    return Status(StatusCode::kInternal, what + ": curl_easy_init failed");
  }
  curl_easy_reset(curl);
  Sink sink;
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // loadctl owns SIGINT/SIGTERM handling
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, kTotalTimeoutMs);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "loadctl/" LOADD_VERSION);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (!credentials_.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, credentials_.ca_file.c_str());
  }
  if (!credentials_.client_cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, credentials_.client_cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, credentials_.client_key.c_str());
  }
  std::string authorization;
  if (!credentials_.token.empty()) {
    authorization = "Authorization: Bearer " + credentials_.token;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  if (body != nullptr) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    // A body with another method than POST (PATCH): the same fields.
    if (std::string_view(method) != "POST")
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  curl_slist_free_all(headers);
  if (sink.too_large) {
    return Status(
        StatusCode::kInternal,
        what + ": answer larger than " + std::to_string(kMaxBodyBytes >> 20) + " MiB");
  }
  if (rc != CURLE_OK) {
    std::string why = *error != '\0' ? error : curl_easy_strerror(rc);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
      why +=
          "; give the CA that signed the coordinator's certificate with --cacert FILE "
          "(or LOADD_CACERT)";
    }
    return Status(StatusCode::kUnavailable,
                  "cannot reach the coordinator: " + what + ": " + why);
  }
  return HttpReply{static_cast<int>(http_status), std::move(sink.body)};
}

Result<std::string> ResolveCoordinatorUrl(const std::string& flag,
                                          const char* env_value) {
  std::string source = "--coordinator";
  std::string url = flag;
  if (url.empty() && env_value != nullptr && *env_value != '\0') {
    source = "LOADD_COORDINATOR";
    url = env_value;
  }
  if (url.empty()) return std::string(kDefaultCoordinator);
  if (url.find("://") == std::string::npos) url = "http://" + url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::Invalid(source, "\"" + url + "\" is not an http:// or https:// URL");
  }
  while (url.back() == '/') url.pop_back();
  if (url.find_first_of(" \t\r\n?#") != std::string::npos || url.ends_with("//") ||
      url.ends_with(":")) {
    return Status::Invalid(source, "\"" + url + "\" is not a valid coordinator URL");
  }
  return url;
}

}  // namespace loadd
