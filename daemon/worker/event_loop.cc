#include "daemon/worker/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "common/clock.h"
#include "common/log.h"

namespace loadd {
namespace {

constexpr int64_t kMaxWaitNs = 100 * kNsPerMs;  // periodic wake even when idle
constexpr int kMaxEvents = 512;

}  // namespace

EventLoop::EventLoop(const Clock* clock) : clock_(clock) {}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

Status EventLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0)
    return Status(StatusCode::kInternal,
                  std::string("epoll_create1: ") + strerror(errno));
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0)
    return Status(StatusCode::kInternal, std::string("eventfd: ") + strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the wake fd
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return Status(StatusCode::kInternal, std::string("epoll_ctl: ") + strerror(errno));
  }
  return Status::Ok();
}

Status EventLoop::Add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Status(StatusCode::kInternal,
                  std::string("epoll_ctl add: ") + strerror(errno));
  }
  return Status::Ok();
}

Status EventLoop::Modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return Status(StatusCode::kInternal,
                  std::string("epoll_ctl mod: ") + strerror(errno));
  }
  return Status::Ok();
}

void EventLoop::Remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::Push(Timer* timer, int64_t key) {
  timer->queued = true;
  timer->queued_seq = next_seq_++;
  timer->queued_key = key;
  std::vector<Entry>& heap = timer->urgent ? urgent_heap_ : heap_;
  heap.push_back({key, timer->queued_seq, timer});
  std::push_heap(heap.begin(), heap.end(), EntryLater{});
}

void EventLoop::Arm(Timer* timer, int64_t deadline_ns) {
  timer->deadline_ns = deadline_ns;
  timer->armed = true;
  // An entry due no later than the new deadline already speaks for the
  // timer; it re-queues itself at the real deadline when it comes up.
  if (!timer->queued || deadline_ns < timer->queued_key) {
    if (timer->queued) ++superseded_;
    Push(timer, deadline_ns);
    CompactIfStale();
  }
}

// A timer pulled earlier again and again (libcurl's, on every new request)
// leaves superseded entries behind until their deadlines; drop them once
// they outnumber the live ones, so the heap stays O(timers).
void EventLoop::CompactIfStale() {
  if (superseded_ < 4096 || superseded_ * 2 < heap_.size() + urgent_heap_.size()) return;
  for (std::vector<Entry>* heap : {&heap_, &urgent_heap_}) {
    std::erase_if(*heap, [](const Entry& e) {
      return !e.timer->queued || e.timer->queued_seq != e.seq;
    });
    std::make_heap(heap->begin(), heap->end(), EntryLater{});
  }
  superseded_ = 0;
}

void EventLoop::ForgetGroup(const void* group) {
  for (std::vector<Entry>* heap : {&heap_, &urgent_heap_}) {
    std::erase_if(*heap, [group](const Entry& e) { return e.timer->group == group; });
    std::make_heap(heap->begin(), heap->end(), EntryLater{});
  }
}

void EventLoop::RunDueTimers(int64_t now_ns) {
  RunDue(&urgent_heap_, now_ns, std::numeric_limits<int>::max());
  timers_left_ = !RunDue(&heap_, now_ns, kMaxTimersPerBatch);
}

bool EventLoop::RunDue(std::vector<Entry>* heap, int64_t now_ns, int budget) {
  while (!heap->empty() && heap->front().key <= now_ns) {
    if (budget == 0) return false;
    std::pop_heap(heap->begin(), heap->end(), EntryLater{});
    Entry e = heap->back();
    heap->pop_back();
    Timer* t = e.timer;
    if (!t->queued || t->queued_seq != e.seq) {  // superseded entry
      if (superseded_ > 0) --superseded_;
      continue;
    }
    t->queued = false;
    if (!t->armed) continue;
    if (t->deadline_ns > now_ns) {
      Push(t, t->deadline_ns);
      continue;
    }
    t->armed = false;
    --budget;
    t->handler->OnTimer();
  }
  return true;
}

int64_t EventLoop::NextTimeoutNs(int64_t now_ns) const {
  if (!deferred_.empty() || timers_left_) return 0;
  int64_t next_ns = now_ns + kMaxWaitNs;
  for (const std::vector<Entry>* heap : {&heap_, &urgent_heap_}) {
    if (!heap->empty()) next_ns = std::min(next_ns, heap->front().key);
  }
  return std::clamp<int64_t>(next_ns - now_ns, 0, kMaxWaitNs);
}

void EventLoop::Run() {
  while (!stop_.load(std::memory_order_relaxed)) {
    if (RunOnce(kMaxWaitNs) < 0) break;
  }
}

int64_t EventLoop::NextDeadlineNs() const {
  int64_t next_ns = std::numeric_limits<int64_t>::max();
  for (const std::vector<Entry>* heap : {&heap_, &urgent_heap_}) {
    if (!heap->empty()) next_ns = std::min(next_ns, heap->front().key);
  }
  return next_ns;
}

int EventLoop::RunOnce(int64_t max_wait_ns) {
  epoll_event events[kMaxEvents];
  RunDueTimers(clock_->NowNs());
  int64_t wait_ns =
      std::min(NextTimeoutNs(clock_->NowNs()), std::max<int64_t>(max_wait_ns, 0));
  timespec ts{static_cast<time_t>(wait_ns / kNsPerSec),
              static_cast<long>(wait_ns % kNsPerSec)};
  // Kernels before 5.11, and valgrind (bench/callgrind_ir.py), lack
  // epoll_pwait2: epoll_wait then, with the timeout rounded up to a ms.
  int n = pwait2_ ? epoll_pwait2(epoll_fd_, events, kMaxEvents, &ts, nullptr) : -1;
  if (pwait2_ && n < 0 && errno == ENOSYS) pwait2_ = false;
  if (!pwait2_) {
    n = epoll_wait(epoll_fd_, events, kMaxEvents,
                   static_cast<int>((wait_ns + kNsPerMs - 1) / kNsPerMs));
  }
  if (n < 0 && errno != EINTR) {
    LOG_ERROR("epoll wait: %s", strerror(errno));
    return -1;
  }
  for (int i = 0; i < n; ++i) {
    auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
    if (handler == nullptr) {
      uint64_t drained;
      ssize_t ignored = read(wake_fd_, &drained, sizeof drained);
      (void)ignored;
      continue;
    }
    handler->OnIo(events[i].events);
  }
  while (!deferred_.empty()) {
    std::vector<std::function<void()>> batch;
    batch.swap(deferred_);
    for (auto& fn : batch) fn();
  }
  return std::max(n, 0);
}

void EventLoop::Stop() {
  stop_ = true;
  Wakeup();
}

void EventLoop::Wakeup() {
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof one);
  (void)ignored;
}

}  // namespace loadd
