// How the REST API tells a Status to its client: one function maps a
// Status to the HTTP code (HttpCodeOf), one writes the error body
// (ErrorJson), whose text is always valid UTF-8. Used by the handlers
// (rest_api.cc) and by the server's own refusals (rest_pistache.cc).
#ifndef LOADD_DAEMON_COORDINATOR_REST_ERRORS_H_
#define LOADD_DAEMON_COORDINATOR_REST_ERRORS_H_

#include <string>

#include "common/status.h"

namespace loadd {

int HttpCodeOf(const Status& status);

// {"error":{"code":..., "message":..., "path":...}} (no line break).
std::string ErrorJson(const Status& status);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_ERRORS_H_
