#include "daemon/target/target_listen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace loadd {
namespace {

// Reads errno first, before anything else can change it.
Status SocketError(const std::string& what, const ListenAddress& address) {
  int error = errno;
  return Status(StatusCode::kUnavailable,
                what + " " + address.ToString() + ": " + std::strerror(error),
                "--listen");
}

}  // namespace

uint16_t ListenAddress::port() const {
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

void ListenAddress::set_port(uint16_t port) {
  if (addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
  }
}

std::string ListenAddress::ToString() const {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, host,
              sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, host,
            sizeof host);
  return std::string(host) + ":" + std::to_string(port());
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::Invalid("--listen", "\"" + std::string(text) + "\" is not HOST:PORT");
  }
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return Status::Invalid("--listen",
                           "\"" + std::string(port_text) + "\" is not a port");
  }
  std::string host(text.substr(0, colon));
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  ListenAddress address;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    address.addr_len = sizeof(sockaddr_in);
  } else if (host.size() > 2 && host.front() == '[' && host.back() == ']' &&
             inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(),
                       &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    address.addr_len = sizeof(sockaddr_in6);
  } else {
    return Status::Invalid("--listen",
                           "\"" + host +
                               "\" is not an IP address (use 127.0.0.1, 0.0.0.0, "
                               "[::1] or localhost)");
  }
  address.set_port(static_cast<uint16_t>(port));
  return address;
}

Result<ListenAddress> ProbeListenAddress(const ListenAddress& address) {
  int fd = socket(address.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("socket for", address);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // TIME_WAIT is no conflict
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.addr_len) != 0) {
    Status status = SocketError("bind", address);
    close(fd);
    return status;
  }
  Result<ListenAddress> bound = BoundAddress(fd);
  close(fd);
  return bound;
}

Result<int> OpenListener(const ListenAddress& address) {
  int fd = socket(address.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return SocketError("socket for", address);
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    Status status = SocketError("setsockopt on", address);
    close(fd);
    return status;
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address.addr), address.addr_len) != 0) {
    Status status = SocketError("bind", address);
    close(fd);
    return status;
  }
  if (listen(fd, SOMAXCONN) != 0) {
    Status status = SocketError("listen on", address);
    close(fd);
    return status;
  }
  return fd;
}

Result<ListenAddress> BoundAddress(int fd) {
  ListenAddress address;
  address.addr_len = sizeof address.addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address.addr), &address.addr_len) !=
      0) {
    return Status(StatusCode::kInternal,
                  std::string("getsockname: ") + std::strerror(errno));
  }
  return address;
}

}  // namespace loadd
