#include "daemon/coordinator/bus_server.h"

#include <nng/protocol/pair1/pair.h>

#include "common/log.h"
#include "common/wire.h"

namespace loadd {

BusServer::~BusServer() { Close(); }

void BusServer::OnPipe(nng_pipe pipe, nng_pipe_ev ev, void* self) {
  auto* server = static_cast<BusServer*>(self);
  uint32_t id = nng_pipe_id(pipe);
  if (ev == NNG_PIPE_EV_ADD_POST) {
    server->coordinator_->OnConnect(id);
  } else if (ev == NNG_PIPE_EV_REM_POST) {
    server->coordinator_->OnDisconnect(id);
  }
}

Status BusServer::Listen(const std::string& url) {
  int rv = nng_pair1_open_poly(&socket_);
  if (rv != 0) return Status(StatusCode::kInternal, std::string("nng: ") + nng_strerror(rv));
  open_ = true;
  nng_socket_set_size(socket_, NNG_OPT_RECVMAXSZ, kMaxWireMessageBytes);
  nng_socket_set_int(socket_, NNG_OPT_RECVBUF, 1024);
  nng_socket_set_int(socket_, NNG_OPT_SENDBUF, 64);
  nng_pipe_notify(socket_, NNG_PIPE_EV_ADD_POST, OnPipe, this);
  nng_pipe_notify(socket_, NNG_PIPE_EV_REM_POST, OnPipe, this);
  rv = nng_listen(socket_, url.c_str(), nullptr, 0);
  if (rv != 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot listen on " + url + ": " + nng_strerror(rv), "--bus");
  }
  receiver_ = std::thread([this] { ReceiveLoop(); });
  return Status::Ok();
}

void BusServer::ReceiveLoop() {
  while (!closing_.load()) {
    nng_msg* msg = nullptr;
    int rv = nng_recvmsg(socket_, &msg, 0);
    if (rv == NNG_ECLOSED) return;
    if (rv != 0) continue;
    uint32_t pipe = nng_pipe_id(nng_msg_get_pipe(msg));
    std::string_view bytes(static_cast<const char*>(nng_msg_body(msg)), nng_msg_len(msg));
    coordinator_->OnMessage(pipe, bytes);
    nng_msg_free(msg);
  }
}

void BusServer::SendTo(uint32_t pipe, const std::string& bytes) {
  nng_msg* msg = nullptr;
  if (nng_msg_alloc(&msg, 0) != 0) return;
  nng_msg_append(msg, bytes.data(), bytes.size());
  nng_pipe p;
  p.id = pipe;
  nng_msg_set_pipe(msg, p);
  int rv = nng_sendmsg(socket_, msg, NNG_FLAG_NONBLOCK);
  if (rv != 0) {
    nng_msg_free(msg);
    LOG_DEBUG("send to pipe %u failed: %s", pipe, nng_strerror(rv));
  }
}

void BusServer::Close() {
  if (!open_) return;
  closing_ = true;
  nng_close(socket_);
  open_ = false;
  if (receiver_.joinable()) receiver_.join();
}

}  // namespace loadd
