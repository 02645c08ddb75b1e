#pragma once
// An experiment: one config, one or more runs (a noise-multiplier list is a
// sweep), one output folder:
//   OUT/index.json               one row per run with its status (atomic rewrites)
// (a file with `variants:` puts each variant's runs under OUT/<variant>/<run-id>)
//   OUT/<run-id>/config.yaml     the resolved config of the run (re-runnable)
//   OUT/<run-id>/metrics.json    per-step rows and per-epoch evaluations
//   OUT/<run-id>/summary.json    final metrics, epsilon, timings, memory, versions
// A run that fails is recorded as failed and the sweep goes on.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dpsgd/config/experiment_config.hpp"

namespace dpsgd::experiment {

struct ExperimentRequest {
  std::filesystem::path config_path;
  std::vector<std::string> overrides;  ///< --set KEY=VALUE
  std::optional<std::filesystem::path> out_dir;
  std::optional<config::DeviceChoice> device;  ///< --device beats the YAML
  std::vector<std::string> variants;           ///< --variant: run only these (default all)
  /// --restart: start every planned run over, even completed ones (default:
  /// skip runs that are done, resume those with a checkpoint).
  bool restart = false;
};

/// Runs everything; returns 0 when every run succeeded, 1 when some failed or
/// diverged, 128 + N when signal N stopped it (the runs are resumable).
/// Bad input (config, data, arguments) throws util::UserError before any run starts.
int run_experiment(const ExperimentRequest& request);

/// The device a choice resolves to (auto: CUDA when LibTorch sees one).
torch::Device resolve_device(config::DeviceChoice choice);

}  // namespace dpsgd::experiment
