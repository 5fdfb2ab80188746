#include "daemon/worker/curl_conn.h"

#include "common/clock.h"
#include "daemon/worker/engine.h"

namespace loadd {
namespace {

ErrorKind KindOf(CURLcode result) {
  switch (result) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return ErrorKind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorKind::kTimeout;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return ErrorKind::kParse;
    default:
      return ErrorKind::kIo;
  }
}

}  // namespace

CurlConn::CurlConn(Engine* engine, CurlDriver* driver, ExchangeOwner* owner)
    : engine_(engine), driver_(driver), owner_(owner), easy_(curl_easy_init()) {
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, static_cast<CurlDriver::Transfer*>(this));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(engine->timeout_ns() / kNsPerMs));
  // Plan URLs never leave the protocols the plan was validated for.
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
}

CurlConn::~CurlConn() {
  if (in_flight_) driver_->Remove(easy_);
  curl_easy_cleanup(easy_);
}

size_t CurlConn::OnData(char*, size_t size, size_t n, void* conn) {
  static_cast<CurlConn*>(conn)->bytes_in_ += static_cast<int64_t>(size * n);
  return size * n;
}

void CurlConn::Exchange(size_t request, int64_t intended_ns) {
  request_ = request;
  intended_ns_ = intended_ns;
  const PreparedRequest& req = engine_->request(request_);
  curl_easy_setopt(easy_, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_NOBODY, req.head ? 1L : 0L);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, req.curl_headers);
  if (req.has_body) {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, req.body.data());
  } else if (!req.head) {
    curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  bytes_in_ = 0;
  sent_ns_ = MonotonicNowNs();
  in_flight_ = true;
  driver_->Add(easy_);
}

void CurlConn::OnDone(CURLcode result) {
  in_flight_ = false;
  const PreparedRequest& req = engine_->request(request_);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    int64_t now = MonotonicNowNs();
    int64_t service_us = (now - sent_ns_) / kNsPerUs;
    if (intended_ns_ > 0) {
      engine_->stats().RecordResponse(req.slot, (now - intended_ns_) / kNsPerUs, service_us,
                                      static_cast<int>(status), bytes_in_);
    } else {
      engine_->stats().RecordResponse(req.slot, service_us, -1, static_cast<int>(status),
                                      bytes_in_);
    }
  } else {
    engine_->stats().RecordError(req.slot, KindOf(result));
  }
  owner_->OnExchangeDone(this);
}

void CurlConn::Interrupt() {
  if (!in_flight_) return;
  driver_->Remove(easy_);
  in_flight_ = false;
  engine_->stats().RecordError(engine_->request(request_).slot, ErrorKind::kInterrupted);
}

}  // namespace loadd
