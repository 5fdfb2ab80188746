// The REST API's part in roles and the audit log: what an action is called,
// the audit line of a request's outcome, and who may act on a run.
#ifndef LOADD_DAEMON_COORDINATOR_REST_AUDIT_H_
#define LOADD_DAEMON_COORDINATOR_REST_AUDIT_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/coordinator/audit_log.h"
#include "daemon/coordinator/rest_routes.h"
#include "daemon/coordinator/tokens.h"

namespace loadd {

// What the audit log calls a request to `match`: "start", "stop", "scale", "read"
// (any GET), or "request" (no route). A stop that ends a run before it
// started is logged as "cancel" by the caller, which knows.
const char* AuditActionOf(const RouteMatch& match);

// The audit line for a request's outcome; `status` OK or its refusal.
AuditEntry AuditEntryOf(const std::optional<TokenIdentity>& who, std::string address,
                        std::string_view action, std::string_view run_id,
                        const Status& status);

// Whether `who` may stop or scale run `run_id`, started by the token
// named `started_by`: an admin any run, a runner only its own (the route's
// role, rest_routes.h, already kept viewers out). 403 naming both tokens.
Status MayActOnRun(const std::string& run_id, const std::string& started_by,
                   const TokenIdentity& who);

}  // namespace loadd

#endif  // LOADD_DAEMON_COORDINATOR_REST_AUDIT_H_
