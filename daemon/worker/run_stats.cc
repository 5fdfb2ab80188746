#include "daemon/worker/run_stats.h"

#include <map>

namespace loadd {

RunStats::RunStats(const std::vector<std::string>& request_names) {
  std::map<std::string, int> slots;
  for (const std::string& name : request_names) {
    auto [it, inserted] = slots.emplace(name, static_cast<int>(interval_.size()));
    if (inserted) {
      interval_.emplace_back();
      interval_.back().name = name;
    }
    slot_of_request_.push_back(it->second);
  }
}

void RunStats::RecordResponse(int slot, int64_t latency_us, int64_t service_us,
                              int status, int64_t bytes_in) {
  EndpointStats& e = interval_[slot];
  ++e.requests;
  ++total_requests_;
  e.bytes_in += bytes_in;
  e.latency_us.Record(latency_us);
  if (service_us >= 0) e.service_us.Record(service_us);
  if (status >= 400) {
    ++e.failures;
    ++e.errors[static_cast<int>(ErrorKind::kStatus)];
  }
}

void RunStats::RecordError(int slot, ErrorKind kind) {
  EndpointStats& e = interval_[slot];
  ++e.requests;
  ++total_requests_;
  ++e.failures;
  ++e.errors[static_cast<int>(kind)];
}

int RunStats::AddCheck(const std::string& name) {
  for (size_t i = 0; i < checks_.size(); ++i) {
    if (checks_[i].name == name) return static_cast<int>(i);
  }
  checks_.push_back(CheckCount{name, 0, 0});
  return static_cast<int>(checks_.size() - 1);
}

void RunStats::DrainChecks(std::vector<CheckCount>* out) {
  for (CheckCount& c : checks_) {
    if (c.passed == 0 && c.failed == 0) continue;
    out->push_back(c);
    c.passed = c.failed = 0;
  }
}

void RunStats::Drain(std::vector<EndpointStats>* out) {
  for (EndpointStats& e : interval_) {
    if (e.requests == 0) continue;
    EndpointStats copy;
    copy.name = e.name;
    copy.requests = e.requests;
    copy.failures = e.failures;
    copy.errors = e.errors;
    copy.bytes_in = e.bytes_in;
    copy.latency_us.Merge(e.latency_us);
    copy.service_us.Merge(e.service_us);
    out->push_back(std::move(copy));
    e.requests = e.failures = e.bytes_in = 0;
    e.errors.fill(0);
    e.latency_us.Reset();
    e.service_us.Reset();
  }
}

}  // namespace loadd
