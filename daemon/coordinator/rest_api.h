// RestApi: the coordinator's REST API (docs/rest-api.md) on Pistache.
//
// Routes are a table; every handler returns JSON or a Status, and one
// function (HttpCodeOf) maps a Status to the HTTP code of the error reply.
#ifndef LOADD_DAEMON_COORDINATOR_REST_API_H_
#define LOADD_DAEMON_COORDINATOR_REST_API_H_

#include <memory>
#include <string>

#include "common/status.h"
#include "daemon/coordinator/coordinator.h"

namespace Pistache::Http {
class Endpoint;
}

namespace loadd {

constexpr size_t kMaxRestBodyBytes = 1 << 20;

int HttpCodeOf(const Status& status);
std::string ErrorJson(const Status& status);

class RestApi {
 public:
  explicit RestApi(Coordinator* coordinator) : coordinator_(coordinator) {}
  ~RestApi();

  // address: "HOST:PORT". Serves on background threads until Shutdown().
  Status Serve(const std::string& address, int threads = 2);
  void Shutdown();

 private:
  Coordinator* coordinator_;
  std::shared_ptr<Pistache::Http::Endpoint> endpoint_;
  std::shared_ptr<void> router_;  // Pistache::Rest::Router, kept alive while serving
};

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_API_H_
