// CurlApiClient: ApiClient over libcurl's easy interface.
//
// One easy handle is reused, so polling keeps its connection alive. Not
// thread-safe: one thread uses an instance at a time. Timeouts: 3 s to
// connect, 30 s per request in total.
#ifndef LOADD_CTL_CURL_API_CLIENT_H_
#define LOADD_CTL_CURL_API_CLIENT_H_

#include <string>

#include "common/status.h"
#include "ctl/api_client.h"
#include "ctl/credentials.h"

namespace loadd {

class CurlApiClient final : public ApiClient {
 public:
  static constexpr long kConnectTimeoutMs = 3000;
  static constexpr long kTotalTimeoutMs = 30000;
  // Answers larger than this are refused (a week-long run's timeline fits).
  static constexpr size_t kMaxBodyBytes = size_t{256} << 20;

  // base_url: "http://host:port" or "https://..." (a trailing '/' is
  // dropped). Every request carries credentials.token as a bearer token
  // when there is one; https:// certificates are checked against
  // credentials.ca_file when set, else the system's CAs.
  explicit CurlApiClient(std::string base_url, Credentials credentials = {});
  ~CurlApiClient() override;
  CurlApiClient(const CurlApiClient&) = delete;
  CurlApiClient& operator=(const CurlApiClient&) = delete;

  std::string BaseUrl() const override { return base_url_; }
  Result<HttpReply> Get(const std::string& path) override;
  Result<HttpReply> Post(const std::string& path, const std::string& body) override;
  Result<HttpReply> Patch(const std::string& path, const std::string& body) override;
  std::string AuthHint() const override { return UnauthorizedHint(credentials_); }

 private:
  Result<HttpReply> Perform(const char* method, const std::string& path,
                            const std::string* body);

  std::string base_url_;
  Credentials credentials_;
  void* curl_;  // CURL*, kept out of this header
};

// Resolves the coordinator URL: the flag, else $LOADD_COORDINATOR, else
// http://127.0.0.1:8089. "host:port" gets "http://" prepended; any other
// scheme than http(s) is an error naming `source`.
Result<std::string> ResolveCoordinatorUrl(const std::string& flag, const char* env_value);

}  // namespace loadd

#endif  // LOADD_CTL_CURL_API_CLIENT_H_
