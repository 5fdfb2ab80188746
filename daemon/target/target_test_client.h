// A blocking HTTP/1.1 test client over one loopback connection, for the
// server tests of `loadd target`. Test-only: header-only, no error model.
#ifndef LOADD_DAEMON_TARGET_TARGET_TEST_CLIENT_H_
#define LOADD_DAEMON_TARGET_TARGET_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace loadd {

struct Reply {
  int status = -1;  // -1: connection closed or timed out first
  std::string head;
  std::string body;
};

// A blocking HTTP/1.1 client over one loopback connection, just enough to
// read what the target writes (every response has Content-Length, except
// 204/304).
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }

  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  Reply Get(const std::string& path) {
    Send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n");
    return Read();
  }
  // One request with extra `headers` (each "Name: value\r\n") and a body
  // (always with Content-Length); returns the answer.
  Reply Call(const std::string& method, const std::string& path,
             const std::string& headers = "", const std::string& body = "") {
    Send(method + " " + path + " HTTP/1.1\r\nHost: t\r\n" + headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    return Read();
  }

  Reply Read() {
    Reply reply;
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return reply;
    }
    reply.head = buf_.substr(0, head_end + 4);
    size_t body_bytes = 0;
    size_t at = reply.head.find("Content-Length: ");
    if (at != std::string::npos) body_bytes = std::stoul(reply.head.substr(at + 16));
    while (buf_.size() < head_end + 4 + body_bytes) {
      if (!Fill()) return reply;
    }
    reply.body = buf_.substr(head_end + 4, body_bytes);
    buf_.erase(0, head_end + 4 + body_bytes);
    reply.status = std::stoi(reply.head.substr(9, 3));
    return reply;
  }

  // True when the server closed the connection (EOF or reset) with nothing
  // more to read.
  bool ReadsEof() {
    char byte;
    ssize_t n = recv(fd_, &byte, 1, 0);
    return buf_.empty() && (n == 0 || (n < 0 && errno == ECONNRESET));
  }

 private:
  bool Fill() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_TARGET_TARGET_TEST_CLIENT_H_
