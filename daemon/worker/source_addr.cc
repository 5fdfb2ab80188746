#include "daemon/worker/source_addr.h"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"

namespace loadd {
namespace {

SourceAddresses& ProcessSources() {
  static SourceAddresses sources(0);
  return sources;
}

bool loopback_sources_on = true;  // SetLoopbackSources()

std::string Dotted(in_addr a) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

}  // namespace

bool IsLoopbackV4(const sockaddr* addr, socklen_t len) {
  if (addr == nullptr || addr->sa_family != AF_INET || len < sizeof(sockaddr_in))
    return false;
  const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
  return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

in_addr LoopbackSource(int64_t instance, uint64_t n) {
  auto i = static_cast<uint64_t>(instance);
  uint32_t host = (127u << 24) | (static_cast<uint32_t>(200 + i / 256 % 50) << 16) |
                  (static_cast<uint32_t>(i % 256) << 8) |
                  static_cast<uint32_t>(1 + n % kLoopbackSources);
  in_addr a{};
  a.s_addr = htonl(host);
  return a;
}

Status SourceAddresses::BindFor(int fd, const sockaddr* target, socklen_t len) {
  if (!IsLoopbackV4(target, len)) return Status::Ok();
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_port = 0;
  src.sin_addr = LoopbackSource(instance_, next_);
  int one = 1;
  if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot use source address " + Dotted(src.sin_addr) +
                      " for a loopback target: " + strerror(errno));
  }
  ++next_;
  return Status::Ok();
}

void SetSourceInstance(int64_t instance) { ProcessSources() = SourceAddresses(instance); }

void SetLoopbackSources(bool on) { loopback_sources_on = on; }

void BindLoopbackSource(int fd, const sockaddr* target, socklen_t len) {
  if (!loopback_sources_on) return;
  Status st = ProcessSources().BindFor(fd, target, len);
  static bool warned = false;
  if (!st.ok() && !warned) {
    warned = true;
    LOG_WARN("%s; connecting from the address the kernel picks (warned once)",
             st.ToString().c_str());
  }
}

curl_socket_t OpenCurlSocket(void*, curlsocktype purpose, curl_sockaddr* address) {
  int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  if (purpose == CURLSOCKTYPE_IPCXN)
    BindLoopbackSource(fd, &address->addr, address->addrlen);
  return fd;
}

}  // namespace loadd
