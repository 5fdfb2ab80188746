#include "daemon/worker/engine.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <numeric>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/worker/closed_driver.h"
#include "daemon/worker/curl_conn.h"
#include "daemon/worker/curl_driver.h"
#include "daemon/worker/http_conn.h"
#include "daemon/worker/open_driver.h"
#include "daemon/worker/tls_context.h"
#include "daemon/worker/tls_probe.h"

namespace loadd {
namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
// The ALPN probe of one host never takes longer than this (nor the plan's timeout).
constexpr int64_t kMaxProbeMs = 3000;

bool HasHeader(const RequestSpec& spec, const char* name) {
  for (const auto& [k, v] : spec.headers) {
    if (strcasecmp(k.c_str(), name) == 0) return true;
  }
  return false;
}

std::string BuildRequest(const RequestSpec& spec) {
  std::string out;
  out.reserve(128 + spec.body.size());
  out += spec.method + " " + spec.url.target + " HTTP/1.1\r\n";
  if (!HasHeader(spec, "Host")) out += "Host: " + spec.url.HostHeader() + "\r\n";
  if (!HasHeader(spec, "User-Agent")) out += "User-Agent: loadd/" LOADD_VERSION "\r\n";
  for (const auto& [k, v] : spec.headers) out += k + ": " + v + "\r\n";
  bool wants_length = !spec.body.empty() || spec.method == "POST" ||
                      spec.method == "PUT" || spec.method == "PATCH";
  if (wants_length && !HasHeader(spec, "Content-Length")) {
    out += "Content-Length: " + std::to_string(spec.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += spec.body;
  return out;
}

// The plan's https:// URLs, one per host and port.
std::vector<const Url*> HttpsUrls(const Plan& plan) {
  std::map<std::string, const Url*> by_host;
  auto add = [&](const Url& url) {
    if (url.scheme == "https")
      by_host.emplace(url.host + ":" + std::to_string(url.port), &url);
  };
  for (const RequestSpec& r : plan.requests) add(r.url);
  for (const Scenario& sc : plan.scenarios) {
    for (const Step& st : sc.steps) add(st.url);
  }
  std::vector<const Url*> out;
  for (const auto& [key, url] : by_host) out.push_back(url);
  return out;
}

// Same family, address and port (flow and scope ids aside).
bool SameEndpoint(const sockaddr* a, socklen_t a_len, const sockaddr* b,
                  socklen_t b_len) {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET && a_len >= sizeof(sockaddr_in) &&
      b_len >= sizeof(sockaddr_in)) {
    const auto* x = reinterpret_cast<const sockaddr_in*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in*>(b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6 && a_len >= sizeof(sockaddr_in6) &&
      b_len >= sizeof(sockaddr_in6)) {
    const auto* x = reinterpret_cast<const sockaddr_in6*>(a);
    const auto* y = reinterpret_cast<const sockaddr_in6*>(b);
    return x->sin6_port == y->sin6_port &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

}  // namespace

Result<EngineKind> ParseEngineKind(std::string_view name) {
  if (name == "auto") return EngineKind::kAuto;
  if (name == "native") return EngineKind::kNative;
  if (name == "curl") return EngineKind::kCurl;
  return Status::Invalid(
      "--engine", "must be auto, native or curl, got \"" + std::string(name) + "\"");
}

Engine::Engine(EventLoop* loop, Plan plan, EngineKind kind)
    : loop_(loop), plan_(std::move(plan)), kind_(kind) {}

Engine::~Engine() {
  loop_->ForgetGroup(this);
  driver_.reset();  // closes sockets, detaches curl handles
  curl_.reset();
  for (PreparedRequest& r : requests_) curl_slist_free_all(r.curl_headers);
  curl_slist_free_all(curl_resolve_);
}

Result<int> Engine::AddressFor(const Url& url) {
  std::string key = url.scheme + "://" + url.host + ":" + std::to_string(url.port);
  auto it = address_of_.find(key);
  if (it != address_of_.end()) return it->second;
  Result<SocketAddress> resolved = resolver_->Resolve(url.host, url.port);
  if (!resolved.ok()) return resolved.status();
  const auto* sa = reinterpret_cast<const sockaddr*>(&resolved->addr);
  if (!allow_list_.AllowsConnect(url.host, sa, resolved->len)) {
    return Status(StatusCode::kPermissionDenied,
                  "host " + url.host + " resolved to " + AddressText(sa, resolved->len) +
                      ", which this fleet's allow list (" + allow_list_.Summary() +
                      ") does not allow; nothing was sent there. The coordinator's "
                      "operator can allow that network with --allow-host <CIDR>, or "
                      "let the name resolve anywhere with --allow-host " +
                      url.host + "=any");
  }
  Address a;
  a.addr = resolved->addr;
  a.len = resolved->len;
  a.tls = url.scheme == "https";
  a.host = url.host;
  int index = static_cast<int>(addresses_.size());
  addresses_.push_back(std::move(a));
  address_of_.emplace(key, index);
  return index;
}

Status Engine::PrepareNative(const RequestSpec& spec, PreparedRequest* req) {
  Result<int> address = AddressFor(spec.url);
  if (!address.ok()) return address.status();
  req->bytes = BuildRequest(spec);
  req->address = *address;
  return Status::Ok();
}

Status Engine::PinCurlHosts() {
  std::vector<const Url*> urls;
  for (const RequestSpec& r : plan_.requests) urls.push_back(&r.url);
  for (const Scenario& sc : plan_.scenarios) {
    for (const Step& st : sc.steps) urls.push_back(&st.url);
  }
  for (const Url* url : urls) {
    Result<int> i = AddressFor(*url);
    if (!i.ok()) return i.status();
    const Address& a = addresses_[*i];
    std::string ip = AddressText(reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    if (ip == url->host || "[" + ip + "]" == url->host) continue;  // a literal
    if (a.addr.ss_family == AF_INET6) ip = "[" + ip + "]";
    std::string entry = url->host + ":" + std::to_string(url->port) + ":" + ip;
    curl_resolve_ = curl_slist_append(curl_resolve_, entry.c_str());
  }
  return Status::Ok();
}

bool Engine::MayConnect(const sockaddr* addr, socklen_t len) {
  for (const Address& a : addresses_) {
    if (SameEndpoint(reinterpret_cast<const sockaddr*>(&a.addr), a.len, addr, len))
      return true;
  }
  if (allow_list_.AllowsAddress(addr, len)) return true;
  ++refused_connects_;
  if (!refusal_logged_) {
    refusal_logged_ = true;
    LOG_WARN(
        "libcurl was about to connect to %s, which no host of the plan resolved to "
        "and the allow list (%s) does not allow: refused before connecting (counted "
        "as connect errors; later refusals are not logged)",
        AddressText(addr, len).c_str(), allow_list_.Summary().c_str());
  }
  return false;
}

int Engine::SlotOf(const std::string& name) const { return slot_of_.at(name); }

void Engine::PrepareCurl(const RequestSpec& spec, PreparedRequest* req) {
  req->url = spec.url.ToString();
  req->method = spec.method;
  req->body = spec.body;
  req->has_body = !spec.body.empty() || spec.method == "POST" || spec.method == "PUT" ||
                  spec.method == "PATCH";
  if (!HasHeader(spec, "User-Agent")) {
    req->curl_headers =
        curl_slist_append(req->curl_headers, "User-Agent: loadd/" LOADD_VERSION);
  }
  // libcurl adds "Expect: 100-continue" to larger bodies; a load test wants
  // the request as written.
  req->curl_headers = curl_slist_append(req->curl_headers, "Expect:");
  for (const auto& [k, v] : spec.headers) {
    req->curl_headers = curl_slist_append(req->curl_headers, (k + ": " + v).c_str());
  }
}

void Engine::NoteTlsFailure(const Address& address, const std::string& why) {
  if (tls_failure_logged_) return;
  tls_failure_logged_ = true;
  LOG_WARN(
      "TLS with %s failed: %s (counted as connect errors; later failures are not logged)",
      address.host.c_str(), why.c_str());
}

Result<std::string> Engine::ProbeHttpsHosts() {
  Result<std::unique_ptr<TlsContext>> probe =
      TlsContext::Create(plan_.http.tls, {"h2", "http/1.1"}, /*verify=*/false);
  if (!probe.ok()) return probe.status();
  // One deadline for all hosts together: the probes block the worker's
  // loop (heartbeats, watchdog), so however many https hosts a plan names,
  // they get kMaxProbeMs in all; hosts left unprobed run native.
  int64_t timeout_ms = std::clamp<int64_t>(plan_.timeout_ns / kNsPerMs, 1, kMaxProbeMs);
  int64_t deadline_ns = MonotonicNowNs() + kMaxProbeMs * kNsPerMs;
  for (const Url* url : HttpsUrls(plan_)) {
    Result<int> i = AddressFor(*url);
    if (!i.ok()) return i.status();
    const Address& a = addresses_[*i];
    std::string host = url->host + ":" + std::to_string(url->port);
    int64_t left_ms = (deadline_ns - MonotonicNowNs()) / kNsPerMs;
    if (left_ms <= 0) {
      LOG_INFO("ALPN probes took their %lld ms; %s and later hosts are not probed",
               static_cast<long long>(kMaxProbeMs), host.c_str());
      break;
    }
    Result<std::string> alpn =
        ProbeAlpn(**probe, reinterpret_cast<const sockaddr*>(&a.addr), a.len, url->host,
                  std::min(timeout_ms, left_ms));
    if (!alpn.ok()) {
      LOG_INFO("ALPN probe of %s: %s; the run will count its connect errors",
               host.c_str(), alpn.status().message().c_str());
    } else if (*alpn == "h2") {
      return host;
    }
  }
  return std::string();
}

Result<bool> Engine::ChooseCurl(std::string* why) {
  if (kind_ == EngineKind::kCurl) {
    *why = "--engine curl";
    return true;
  }
  if (plan_.http.NeedsCurl()) {
    if (kind_ == EngineKind::kNative) {
      return Status::Invalid("--engine",
                             "the native engine speaks HTTP/1.1 only, and this "
                             "plan's $.http_version is \"2\": use --engine auto "
                             "or curl, or http_version \"1.1\"");
    }
    *why = "$.http_version is \"2\"";
    return true;
  }
  if (kind_ == EngineKind::kNative) {
    *why = "--engine native";
    return false;
  }
  if (HttpsUrls(plan_).empty()) {
    *why = "plain http:// only";
    return false;
  }
  if (plan_.http.version == HttpOptions::Version::kHttp11) {
    *why = "$.http_version is \"1.1\"";
    return false;
  }
  Result<std::string> h2_host = ProbeHttpsHosts();
  if (!h2_host.ok()) return h2_host.status();
  if (!h2_host->empty()) {
    *why = *h2_host + " offers HTTP/2 (ALPN h2)";
    return true;
  }
  *why = "no https:// host offers HTTP/2 (ALPN)";
  return false;
}

Status Engine::Prepare() {
  if (!plan_.data.empty()) LOADD_RETURN_IF_ERROR(plan_.data.LoadRows());
  std::string why;
  Result<bool> use_curl = ChooseCurl(&why);
  if (!use_curl.ok()) return use_curl.status();
  if (*use_curl) {
    curl_ = std::make_unique<CurlDriver>(loop_);
    LOADD_RETURN_IF_ERROR(curl_->Init());
    LOADD_RETURN_IF_ERROR(PinCurlHosts());
  } else if (!HttpsUrls(plan_).empty()) {
    Result<std::unique_ptr<TlsContext>> tls =
        TlsContext::Create(plan_.http.tls, {"http/1.1"});
    if (!tls.ok()) return tls.status();
    tls_ = std::move(*tls);
  }
  LOG_INFO("engine: %s (%s)", curl_ ? "libcurl" : "native HTTP/1.1", why.c_str());
  std::vector<std::string> names;
  std::vector<int64_t> weights;
  for (const RequestSpec& spec : plan_.requests) {
    PreparedRequest req;
    req.head = spec.method == "HEAD";
    if (curl_) {
      PrepareCurl(spec, &req);
    } else {
      LOADD_RETURN_IF_ERROR(PrepareNative(spec, &req));
    }
    requests_.push_back(std::move(req));
    names.push_back(spec.name);
    weights.push_back(spec.weight);
  }
  for (const Scenario& sc : plan_.scenarios) {
    weights.push_back(sc.weight);
    for (const Step& st : sc.steps) {
      names.push_back(st.name);
      if (!curl_) {
        Result<int> address = AddressFor(st.url);  // resolve now, never mid-run
        if (!address.ok()) return address.status();
      }
    }
  }
  stats_ = std::make_unique<RunStats>(names);
  for (size_t i = 0; i < names.size(); ++i) slot_of_[names[i]] = stats_->SlotOf(i);
  for (size_t i = 0; i < requests_.size(); ++i) requests_[i].slot = stats_->SlotOf(i);
  rotation_ = WeightedRotation(weights);
  for (const Scenario& sc : plan_.scenarios) {
    std::vector<CompiledScenarios::StepInfo> infos;
    for (const Step& st : sc.steps) {
      CompiledScenarios::StepInfo info;
      info.slot = slot_of_[st.name];
      if (!curl_) info.address = *AddressFor(st.url);
      for (const Check& c : st.checks) info.check_ids.push_back(stats_->AddCheck(c.name));
      for (const Extract& e : st.extracts) {
        info.extract_ids.push_back(stats_->AddCheck(e.check_name));
      }
      infos.push_back(std::move(info));
    }
    compiled_.steps.push_back(std::move(infos));
  }
  compiled_.rotation = rotation_;
  read_buffer_.resize(kReadBufferBytes);
  return Status::Ok();
}

size_t Engine::NextRequestIndex(int64_t* position) const {
  size_t i = rotation_[static_cast<size_t>(*position) % rotation_.size()];
  ++*position;
  return i;
}

std::unique_ptr<Connection> Engine::NewConnection(ExchangeOwner* owner) {
  if (connection_factory_) return connection_factory_(this, owner);
  if (curl_) return std::make_unique<CurlConn>(this, curl_.get(), owner);
  return std::make_unique<HttpConn>(this, owner);
}

void Engine::Start(int64_t run_start_ns, const std::vector<ShareChange>& share,
                   double handover_rate) {
  if (!plan_.data.empty() && !share.empty()) {
    // Data rows follow the worker's first stripe (its share at the start).
    data_ = std::make_unique<DataPicker>(&plan_.data, share[0].modulus, share[0].residue);
  }
  if (plan_.model == LoadModel::kOpen) {
    driver_ = std::make_unique<OpenDriver>(this, plan_.Profile(), plan_.max_in_flight);
  } else {
    driver_ = std::make_unique<ClosedDriver>(this, plan_.Profile(), plan_.users);
  }
  driver_->Apply(share, handover_rate);
  driver_->Start(run_start_ns);
  end_ns_ = run_start_ns + plan_.duration_ns;
  loop_->Arm(&end_timer_, end_ns_);
  LOG_INFO("run starts in %lld ms with %zu share class(es)",
           static_cast<long long>((run_start_ns - loop_->NowNs()) / kNsPerMs),
           share.size());
}

void Engine::Reshare(const std::vector<ShareChange>& changes, double handover_rate) {
  if (driver_ && !ending_) driver_->Apply(changes, handover_rate);
}

bool Engine::SetProfile(LoadProfile profile) {
  if (profile.duration_ns() != plan_.duration_ns) return false;
  if (driver_ && !ending_) driver_->SetProfile(std::move(profile));
  return true;
}

void Engine::OnTimer() {
  if (!ending_) {
    // Duration over: let in-flight requests finish within graceful_stop.
    ending_ = true;
    driver_->OnEnding();
    loop_->Arm(&end_timer_, end_ns_ + plan_.graceful_stop_ns);
    MaybeDone();
  } else {
    Stop();
  }
}

void Engine::Finish(int64_t grace_ns) {
  if (done_ || aborting_ || !driver_) return;
  int64_t deadline_ns = loop_->NowNs() + grace_ns;
  if (!ending_) {
    ending_ = true;
    driver_->OnEnding();
  } else if (end_timer_.armed && end_timer_.deadline_ns <= deadline_ns) {
    return;  // already ending, sooner than that
  }
  loop_->Arm(&end_timer_, deadline_ns);
  MaybeDone();
}

void Engine::Stop() {
  if (aborting_ || !driver_) return;
  ending_ = true;
  aborting_ = true;
  driver_->OnEnding();
  driver_->Abort();
  MaybeDone();
}

void Engine::MaybeDone() {
  if (done_ || !ending_ || driver_->in_flight() > 0) return;
  done_ = true;
  loop_->Disarm(&end_timer_);
  if (on_done_) loop_->Defer(on_done_);
}

}  // namespace loadd
