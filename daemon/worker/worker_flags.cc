#include "daemon/worker/worker_flags.h"

namespace loadd {

void AddLabelFlag(CLI::App* app, std::vector<std::string>* args) {
  app->add_option("--label", *args,
                  "label of this worker, key=value (repeatable, at most 16; key: "
                  "letters, digits, '.', '_', '-'; value: also '/', ':', '@'); shown "
                  "in GET /v1/workers. Config: label = [\"pool=eu\", \"rack=3\"]")
      ->take_all();
}

Result<Labels> WorkerLabels(const std::vector<std::string>& args) {
  Labels labels;
  LOADD_RETURN_IF_ERROR(ParseLabelArgs(args, "--label (config key label)", &labels));
  return labels;
}

}  // namespace loadd
