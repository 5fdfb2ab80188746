// Mutex, MutexLock and CondVar: loadd's locks, annotated for Clang's
// thread-safety analysis, so the compiler checks what each lock guards.
//
//   Mutex mu_;
//   int64_t count_ GUARDED_BY(mu_);
//   void BumpLocked() EXCLUSIVE_LOCKS_REQUIRED(mu_);  // the caller holds mu_
//   void Bump() EXCLUDES(mu_) {
//     MutexLock lock(&mu_);
//     BumpLocked();
//   }
//
// Clang with -Wthread-safety rejects an access to count_ or a call of
// BumpLocked() without mu_ held (scripts/check-thread-safety.sh runs it over
// every file in CI). The macros expand to nothing on other compilers (GCC
// builds loadd), so they cost nothing at run time.
//
// The names are those of Clang's documentation ("Thread Safety Analysis"),
// except that "requires" is spelled EXCLUSIVE_LOCKS_REQUIRED (as in leveldb
// and Abseil): Pistache's headers define a REQUIRES macro of their own.
//
// NO_THREAD_SAFETY_ANALYSIS turns the check off for one function: use it
// only where the analysis cannot follow, on a small function, with a comment
// saying why.
#ifndef LOADD_COMMON_MUTEX_H_
#define LOADD_COMMON_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#if defined(__clang__)
#define LOADD_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LOADD_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are locks.
#define CAPABILITY(name) LOADD_THREAD_ANNOTATION(capability(name))
// On a class: an RAII holder of a lock (acquires in its constructor).
#define SCOPED_CAPABILITY LOADD_THREAD_ANNOTATION(scoped_lockable)
// On a member: read and written only with lock x held.
#define GUARDED_BY(x) LOADD_THREAD_ANNOTATION(guarded_by(x))
// On a pointer member: what it points to is used only with lock x held.
#define PT_GUARDED_BY(x) LOADD_THREAD_ANNOTATION(pt_guarded_by(x))
// On a lock member: the lock order (checked by -Wthread-safety-beta only;
// it documents the order for readers).
#define ACQUIRED_BEFORE(...) LOADD_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) LOADD_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
// On a function: its caller must hold the locks (the `...Locked` functions).
#define EXCLUSIVE_LOCKS_REQUIRED(...) \
  LOADD_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// On a function: its caller must not hold the locks (it takes them itself).
#define EXCLUDES(...) LOADD_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// On a function: it acquires / releases the locks (or `this` if none named).
#define ACQUIRE(...) LOADD_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LOADD_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// On a function: it acquires the lock when it returns the first argument
// (TRY_ACQUIRE(true): TryLock).
#define TRY_ACQUIRE(...) LOADD_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// On a function: the check is off inside it (see above).
#define NO_THREAD_SAFETY_ANALYSIS LOADD_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace loadd {

// A non-recursive mutex (std::mutex). Not copyable or movable.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Takes the lock if it is free and returns true; never waits. May fail
  // spuriously (std::mutex::try_lock); never call it holding this lock.
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from its construction to the end of its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable (std::condition_variable) used with a Mutex. The
// waits take the mutex as an argument, so the analysis checks that the
// caller holds it; they release it while waiting and hold it again on
// return. Wakeups may be spurious: wait in a loop on the condition.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex* mu) EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: it belongs to the caller's MutexLock
  }
  // As Wait, but returns after timeout_ms at the latest; false on timeout.
  bool WaitForMs(Mutex* mu, int64_t timeout_ms) EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    bool signalled = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms)) ==
                     std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace loadd

#endif  // LOADD_COMMON_MUTEX_H_
