#include "daemon/coordinator/run_stats.h"

namespace loadd {

void EndpointTotals::AddCounts(const EndpointStats& e) {
  ++version;
  requests += e.requests;
  failures += e.failures;
  bytes_in += e.bytes_in;
  for (size_t i = 0; i < errors.size(); ++i) errors[i] += e.errors[i];
}

void EndpointTotals::Add(const EndpointStats& e) {
  AddCounts(e);
  latency_us.Merge(e.latency_us);
  service_us.Merge(e.service_us);
}

}  // namespace loadd
