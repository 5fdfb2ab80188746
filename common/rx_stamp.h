// Kernel receive timestamps (SO_TIMESTAMPNS): when a TCP segment reached the
// socket, as opposed to when the process got around to reading it. loadd
// ends a response's latency at its last segment's arrival, and `loadd
// target` starts a delay at its request's arrival, so neither counts time
// its own process spent waiting for a CPU.
//
//   EnableRxStamps(fd);                  // once per socket
//   RxStampBuffer control;               // per recvmsg
//   ... recvmsg(fd, &msg, 0) with control.Attach(&msg) ...
//   int64_t stamp = RxStampRealtimeNs(msg);       // 0 when absent
//   int64_t at = RxStampToMonotonicNs(stamp, floor_ns, MonotonicNowNs());
#ifndef LOADD_COMMON_RX_STAMP_H_
#define LOADD_COMMON_RX_STAMP_H_

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "common/clock.h"

namespace loadd {

inline void EnableRxStamps(int fd) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
}

struct RxStampBuffer {
  alignas(cmsghdr) char bytes[CMSG_SPACE(sizeof(timespec))];
  void Attach(msghdr* msg) {
    msg->msg_control = bytes;
    msg->msg_controllen = sizeof bytes;
  }
};

// The SCM_TIMESTAMPNS of a recvmsg (wall-clock ns), or 0 when there is none.
inline int64_t RxStampRealtimeNs(const msghdr& msg) {
  if (msg.msg_controllen == 0 || (msg.msg_flags & MSG_CTRUNC)) return 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
        c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
    }
  }
  return 0;
}

// The monotonic time of a wall-clock stamp: how long ago it was on the wall
// clock, stepped back from mono_now. Only a wall-clock step between the
// stamp and now could mislead this, so the result is kept within
// [floor_ns, mono_now]; a missing stamp (0) gives mono_now.
inline int64_t RxStampToMonotonicNs(int64_t stamp_realtime_ns, int64_t floor_ns,
                                    int64_t mono_now) {
  if (stamp_realtime_ns <= 0) return mono_now;
  timespec real;
  clock_gettime(CLOCK_REALTIME, &real);
  int64_t ago = int64_t{real.tv_sec} * kNsPerSec + real.tv_nsec - stamp_realtime_ns;
  return std::clamp(mono_now - ago, std::min(floor_ns, mono_now), mono_now);
}

}  // namespace loadd

#endif  // LOADD_COMMON_RX_STAMP_H_
