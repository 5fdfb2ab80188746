// User: one virtual user of a closed-model run, with its own keep-alive
// HTTP/1.1 connection. Loop-thread only; owned by its Engine.
#ifndef LOADD_DAEMON_WORKER_USER_H_
#define LOADD_DAEMON_WORKER_USER_H_

#include <http_parser.h>

#include <cstdint>

#include "common/wire.h"
#include "daemon/worker/event_loop.h"

namespace loadd {

class Engine;

// What the engine asks of a user, whatever its transport.
class VirtualUser {
 public:
  virtual ~VirtualUser() = default;
  // The run is over: count what is in flight as interrupted and finish.
  virtual void Abort() = 0;
  // The run is ending: finish now unless a request is in flight.
  virtual void FinishIfIdle() = 0;
};

// A user on the native HTTP/1.1 path: its own non-blocking socket, requests
// written whole, responses parsed by http_parser.
class User final : public VirtualUser, public IoHandler, public TimerHandler {
 public:
  User(Engine* engine, int64_t global_index, int64_t start_ns);
  ~User() override;

  void OnIo(uint32_t events) override;
  void OnTimer() override;
  void Abort() override;
  void FinishIfIdle() override;

 private:
  enum class State { kWaiting, kConnecting, kWriting, kReading, kFinished };

  void Begin();
  void NextRequest();
  void Connect();
  void Send();
  void ContinueWrite();
  void Read();
  void Complete();
  void Fail(ErrorKind kind);
  void CloseConnection();
  void Finish();

  static int OnStatus(http_parser* p, const char* at, size_t len);
  static int OnMessageComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);

  Engine* engine_;
  int64_t global_index_;
  Timer timer_;
  State state_ = State::kWaiting;
  int fd_ = -1;
  bool begun_ = false;           // the user has started (counts as active)
  bool reused_ = false;          // the connection served a request before
  bool retried_ = false;         // this request was already resent once
  size_t request_ = 0;           // index of the request in flight
  int64_t rotation_pos_ = 0;
  size_t written_ = 0;
  int64_t sent_ns_ = 0;
  int64_t bytes_in_ = 0;
  bool message_complete_ = false;
  http_parser parser_;
};

}  // namespace loadd

#endif  // LOADD_DAEMON_WORKER_USER_H_
