#include "daemon/worker/curl_user.h"

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

CurlUser::CurlUser(Engine* engine, CurlDriver* driver, int64_t global_index, int64_t start_ns)
    : engine_(engine),
      driver_(driver),
      easy_(curl_easy_init()),
      timer_(this, engine),
      rotation_pos_(global_index) {
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, static_cast<CurlDriver::Transfer*>(this));
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, static_cast<long>(engine->timeout_ns() / kNsPerMs));
  // Plan URLs never leave the protocols the plan was validated for.
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  engine_->loop()->Arm(&timer_, start_ns);
}

CurlUser::~CurlUser() {
  if (in_flight_) driver_->Remove(easy_);
  curl_easy_cleanup(easy_);
}

size_t CurlUser::OnData(char*, size_t size, size_t n, void* user) {
  static_cast<CurlUser*>(user)->bytes_in_ += static_cast<int64_t>(size * n);
  return size * n;
}

void CurlUser::OnTimer() {
  if (begun_ || engine_->ending()) return;
  begun_ = true;
  engine_->OnUserStarted();
  NextRequest();
}

void CurlUser::NextRequest() {
  if (engine_->ending()) {
    Finish();
    return;
  }
  request_ = engine_->NextRequestIndex(&rotation_pos_);
  const PreparedRequest& req = engine_->request(request_);
  curl_easy_setopt(easy_, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(easy_, CURLOPT_NOBODY, req.head ? 1L : 0L);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, req.curl_headers);
  if (req.has_body) {
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, req.body.data());
  } else {
    curl_easy_setopt(easy_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(easy_, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  bytes_in_ = 0;
  sent_ns_ = MonotonicNowNs();
  in_flight_ = true;
  driver_->Add(easy_);
}

void CurlUser::OnDone(CURLcode result) {
  in_flight_ = false;
  const PreparedRequest& req = engine_->request(request_);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    engine_->stats().RecordResponse(req.slot, (MonotonicNowNs() - sent_ns_) / kNsPerUs,
                                    static_cast<int>(status), bytes_in_);
  } else {
    engine_->stats().RecordError(req.slot, KindOf(result));
  }
  NextRequest();
}

void CurlUser::Abort() {
  if (in_flight_) {
    driver_->Remove(easy_);
    in_flight_ = false;
    engine_->stats().RecordError(engine_->request(request_).slot, ErrorKind::kInterrupted);
  }
  FinishIfIdle();
}

void CurlUser::FinishIfIdle() {
  if (in_flight_) return;
  engine_->loop()->Disarm(&timer_);
  if (begun_) Finish();
}

void CurlUser::Finish() {
  if (finished_) return;
  finished_ = true;
  engine_->OnUserFinished();
}

}  // namespace loadd
