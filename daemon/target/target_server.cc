#include "daemon/target/target_server.h"

#include <unistd.h>

#include <utility>

namespace loadd {

constexpr int kMaxThreads = 1024;

TargetServer::TargetServer(TargetOptions options) : options_(std::move(options)) {}

TargetServer::~TargetServer() {
  Stop();
  Wait();
}

Status TargetServer::Start() {
  int count = options_.threads;
  if (count <= 0) count = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  if (count <= 0) count = 1;
  if (count > kMaxThreads) {
    return Status::Invalid("--threads", "at most " + std::to_string(kMaxThreads));
  }
  Status status = OpenLoops(count);
  if (!status.ok()) {
    loops_.clear();
    return status;
  }
  for (auto& loop : loops_) {
    TargetLoop* raw = loop.get();
    threads_.emplace_back([raw] { raw->Run(); });
  }
  return Status::Ok();
}

// One listener per loop, all on one address, shared through SO_REUSEPORT
// once a probe has checked that nobody else listens there.
Status TargetServer::OpenLoops(int count) {
  Result<ListenAddress> address = ParseListenAddress(options_.listen);
  if (!address.ok()) return address.status();
  Result<ListenAddress> probed = ProbeListenAddress(*address);
  if (!probed.ok()) return probed.status();
  address_ = *probed;
  stats_ = std::make_unique<TargetStats>(count);
  api_ = std::make_unique<DemoApi>(TokenSigner::Random());
  for (int i = 0; i < count; ++i) {
    Result<int> fd = OpenListener(address_);
    if (!fd.ok()) return fd.status();
    loops_.push_back(std::make_unique<TargetLoop>(*fd, options_.loop, stats_.get(),
                                                  stats_->shard(i), api_.get()));
    LOADD_RETURN_IF_ERROR(loops_.back()->Init());
  }
  return Status::Ok();
}

void TargetServer::Stop() {
  for (auto& loop : loops_) loop->Stop();
}

void TargetServer::Wait() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

}  // namespace loadd
