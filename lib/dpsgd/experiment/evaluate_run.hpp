#pragma once
// `dpsgd-run evaluate RUN_DIR [--split test|val] [--set key=value]...`: reloads a
// finished run's model.pt into the model its config.yaml describes, on the data
// that config loads (--set overrides it, e.g. a moved data.root), and returns the
// metrics the run's final evaluation computed (same function, same batches).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dpsgd/config/experiment_config.hpp"

namespace dpsgd::experiment {

struct EvaluateRequest {
  std::filesystem::path run_dir;
  std::string split = "test";  ///< test or val
  std::vector<std::string> overrides;
  std::optional<config::DeviceChoice> device;
  int device_index = -1;  ///< --device cuda:N (-1: device 0)
};

/// The split's metrics as JSON; util::UserError for a folder without model.pt or
/// config.yaml, or a split the data set does not have.
nlohmann::json evaluate_run(const EvaluateRequest& request);

}  // namespace dpsgd::experiment
