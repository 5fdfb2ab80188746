#include "daemon/worker/bus_client.h"

#include <nng/protocol/pair1/pair.h>

#include "common/wire.h"

namespace loadd {
namespace {

Status NngError(const char* what, int rv) {
  return Status(StatusCode::kUnavailable, std::string(what) + ": " + nng_strerror(rv));
}

}  // namespace

BusClient::~BusClient() {
  if (open_) nng_close(socket_);
}

void BusClient::OnPipe(nng_pipe, nng_pipe_ev ev, void* self) {
  auto* bus = static_cast<BusClient*>(self);
  if (ev == NNG_PIPE_EV_ADD_POST) {
    ++bus->pipes_;
    ++bus->epoch_;
  } else if (ev == NNG_PIPE_EV_REM_POST) {
    --bus->pipes_;
  }
}

Status BusClient::Dial(const std::string& url) {
  int rv = nng_pair1_open(&socket_);
  if (rv != 0) return NngError("nng_pair1_open", rv);
  open_ = true;
  nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ, kMaxWireMessageBytes);
  nng_socket_set_int(socket_, NNG_OPT_SENDBUF, 64);
  nng_socket_set_int(socket_, NNG_OPT_RECVBUF, 64);
  nng_socket_set_ms(socket_, NNG_OPT_RECONNMINT, 100);
  nng_socket_set_ms(socket_, NNG_OPT_RECONNMAXT, 2000);
  nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_POST, OnPipe, this);
  nng_pipe_notify(socket_, NNG_PIPE_EV_REM_POST, OnPipe, this);
  // Non-blocking dial: nng keeps retrying in the background until the
  // coordinator is up, so workers may start before it.
  rv = nng_dial(socket_, url.c_str(), nullptr, NNG_FLAG_NONBLOCK);
  if (rv != 0) return NngError(("dial " + url).c_str(), rv);
  rv = nng_socket_get_int(socket_, NNG_OPT_RECVFD, &recv_fd_);
  if (rv != 0) return NngError("recv fd", rv);
  return Status::Ok();
}

Status BusClient::Send(const std::string& bytes) {
  int rv = nng_send(socket_, const_cast<char*>(bytes.data()), bytes.size(), NNG_FLAG_NONBLOCK);
  if (rv != 0) return NngError("bus send", rv);
  return Status::Ok();
}

bool BusClient::TryRecv(std::string* out) {
  char* buf = nullptr;
  size_t size = 0;
  int rv = nng_recv(socket_, &buf, &size, NNG_FLAG_NONBLOCK | NNG_FLAG_ALLOC);
  if (rv != 0) return false;
  out->assign(buf, size);
  nng_free(buf, size);
  return true;
}

}  // namespace loadd
