#include "daemon/coordinator/rest_audit.h"

#include "daemon/coordinator/rest_api.h"

namespace loadd {

const char* AuditActionOf(const RouteMatch& match) {
  if (match.rule == nullptr) return "request";
  switch (match.rule->id) {
    case RouteId::kCreateRun:
      return "start";
    case RouteId::kStopRun:
      return "stop";
    case RouteId::kScaleRun:
      return "scale";
    case RouteId::kHealth:
    case RouteId::kDashboard:
    case RouteId::kDashboardFile:
    case RouteId::kWorkers:
    case RouteId::kRuns:
    case RouteId::kRun:
    case RouteId::kRunHlog:
    case RouteId::kMetrics:
    case RouteId::kCompare:
      return "read";
  }
  return "request";
}

AuditEntry AuditEntryOf(const std::optional<TokenIdentity>& who, std::string address,
                        std::string_view action, std::string_view run_id,
                        const Status& status) {
  AuditEntry entry;
  if (who) entry.token = who->name;
  entry.address = std::move(address);
  entry.action = std::string(action);
  entry.run_id = std::string(run_id);
  entry.ok = status.ok();
  if (!status.ok()) {
    entry.code = HttpCodeOf(status);
    entry.reason = status.message();
  }
  return entry;
}

Status MayActOnRun(const std::string& run_id, const std::string& started_by,
                   const TokenIdentity& who) {
  if (who.role == Role::kAdmin) return Status::Ok();
  if (who.role == Role::kRunner && !started_by.empty() && started_by == who.name) {
    return Status::Ok();
  }
  return Status(StatusCode::kPermissionDenied,
                "run " + run_id + " was started by " +
                    (started_by.empty() ? std::string("no named token")
                                        : "token \"" + started_by + "\"") +
                    "; token \"" + who.name + "\" has role " + RoleName(who.role) +
                    " and may stop or scale only the runs it started (an admin may "
                    "act on any)");
}

}  // namespace loadd
