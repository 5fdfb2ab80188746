#include "daemon/worker/curl_conn.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "common/clock.h"
#include "daemon/worker/engine.h"
#include "daemon/worker/source_addr.h"

namespace loadd {
namespace {

ErrorKind KindOf(CURLcode result) {
  switch (result) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return ErrorKind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorKind::kTimeout;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return ErrorKind::kParse;
    default:
      return ErrorKind::kIo;
  }
}

// libcurl keeps a pointer to blobs set with CURL_BLOB_NOCOPY: the plan
// (owned by the engine) outlives every connection.
void SetBlob(CURL* easy, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_NOCOPY};
  curl_easy_setopt(easy, option, &blob);
}

void ApplyHttpOptions(CURL* easy, const HttpOptions& http) {
  switch (http.version) {
    // h2 where TLS offers it (ALPN), else 1.1; kHttp2 then checks the
    // version of every response (OnDone). The plan parser refuses h2c:
    // libcurl 7.88 breaks reused prior-knowledge connections (curl PR #10643).
    case HttpOptions::Version::kAuto:
    case HttpOptions::Version::kHttp2:
      curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
      break;
    case HttpOptions::Version::kHttp11:
      curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
      break;
  }
  const TlsOptions& tls = http.tls;
  if (!tls.ca.empty()) SetBlob(easy, CURLOPT_CAINFO_BLOB, tls.ca.content);
  if (!tls.cert.empty()) {
    SetBlob(easy, CURLOPT_SSLCERT_BLOB, tls.cert.content);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    SetBlob(easy, CURLOPT_SSLKEY_BLOB, tls.key.content);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (tls.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

}  // namespace

curl_socket_t VetAndOpenCurlSocket(void* engine, curlsocktype purpose,
                                   curl_sockaddr* address) {
  if (!static_cast<Engine*>(engine)->MayConnect(&address->addr, address->addrlen))
    return CURL_SOCKET_BAD;
  return OpenCurlSocket(nullptr, purpose, address);
}

CurlConn::CurlConn(Engine* engine, CurlDriver* driver, ExchangeOwner* owner)
    : engine_(engine), driver_(driver), owner_(owner), easy_(curl_easy_init()) {
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, static_cast<CurlDriver::Transfer*>(this));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
  // Hosts pinned to the addresses Engine::Prepare checked, and every socket
  // vetted against them: libcurl resolves nothing the allow list did not see.
  curl_easy_setopt(easy_, CURLOPT_RESOLVE, engine_->curl_resolve());
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETFUNCTION, VetAndOpenCurlSocket);
  curl_easy_setopt(easy_, CURLOPT_OPENSOCKETDATA, engine_);
  // Plan URLs never leave the protocols the plan was validated for.
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  ApplyHttpOptions(easy_, engine_->plan().http);
}

CurlConn::~CurlConn() {
  if (in_flight_) driver_->Remove(easy_);
  curl_easy_cleanup(easy_);
}

size_t CurlConn::OnData(char* data, size_t size, size_t n, void* conn_ptr) {
  auto* conn = static_cast<CurlConn*>(conn_ptr);
  conn->bytes_in_ += static_cast<int64_t>(size * n);
  if (conn->req_->capture_body && conn->result_.body.size() < (1u << 20)) {
    conn->result_.body.append(data,
                              std::min(size * n, (1u << 20) - conn->result_.body.size()));
  }
  return size * n;
}

size_t CurlConn::OnHeader(char* data, size_t size, size_t n, void* conn_ptr) {
  auto* conn = static_cast<CurlConn*>(conn_ptr);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || conn->result_.headers.size() >= 64)
    return size * n;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto& wanted = conn->req_->capture_headers;
  if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) return size * n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
    value.remove_suffix(1);
  conn->result_.headers.emplace_back(std::move(name), std::string(value.substr(0, 8192)));
  return size * n;
}

void CurlConn::Exchange(const PreparedRequest* request, int64_t intended_ns) {
  req_ = request;
  intended_ns_ = intended_ns;
  const PreparedRequest& req = *req_;
  result_ = ExchangeResult();
  long timeout_ms =
      (req.timeout_ns > 0 ? req.timeout_ns : engine_->timeout_ns()) / kNsPerMs;
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION,
                   req.capture_headers.empty() ? nullptr : OnHeader);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_NOBODY, req.head ? 1L : 0L);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, req.curl_headers);
  if (req.has_body) {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, req.body.data());
  } else if (!req.head) {
    curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  bytes_in_ = 0;
  sent_ns_ = engine_->loop()->NowNs();
  in_flight_ = true;
  driver_->Add(easy_);
}

void CurlConn::OnDone(CURLcode result) {
  in_flight_ = false;
  const PreparedRequest& req = *req_;
  long version = 0;
  curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
  if (result == CURLE_OK &&
      engine_->plan().http.version == HttpOptions::Version::kHttp2 &&
      version != CURL_HTTP_VERSION_2_0) {
    // The plan requires HTTP/2 and the server answered in HTTP/1.x: the
    // measurement would not be what was asked for.
    engine_->stats().RecordError(req.slot, ErrorKind::kParse);
    owner_->OnExchangeDone(this, result_);
    return;
  }
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    int64_t now = engine_->loop()->NowNs();
    int64_t service_us = (now - sent_ns_) / kNsPerUs;
    result_.ok = true;
    result_.status = static_cast<int>(status);
    result_.latency_us = intended_ns_ > 0 ? (now - intended_ns_) / kNsPerUs : service_us;
    engine_->stats().RecordResponse(req.slot, result_.latency_us,
                                    intended_ns_ > 0 ? service_us : -1, result_.status,
                                    bytes_in_);
  } else {
    engine_->stats().RecordError(req.slot, KindOf(result));
  }
  owner_->OnExchangeDone(this, result_);
}

void CurlConn::Interrupt() {
  if (!in_flight_) return;
  driver_->Remove(easy_);
  in_flight_ = false;
  engine_->stats().RecordError(req_->slot, ErrorKind::kInterrupted);
}

}  // namespace loadd
