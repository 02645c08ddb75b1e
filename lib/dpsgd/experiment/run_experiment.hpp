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

#include <nlohmann/json.hpp>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/experiment/run_selection.hpp"

namespace dpsgd::experiment {

struct ExperimentRequest {
  std::filesystem::path config_path;
  std::vector<std::string> overrides;  ///< --set KEY=VALUE
  std::optional<std::filesystem::path> out_dir;
  std::optional<config::DeviceChoice> device;  ///< --device beats the YAML
  /// --device cuda:N; -1: device 0, or LOCAL_RANK in a multi-process run.
  int device_index = -1;
  std::vector<std::string> variants;  ///< --variant: run only these (default all)
  /// --restart: start every planned run over, even completed ones (default:
  /// skip runs that are done, resume those with a checkpoint).
  bool restart = false;
  std::vector<std::string> only;  ///< --only: these run folders (run_selection.hpp)
  std::optional<Shard> shard;     ///< --shard I/N
};

/// Runs everything selected; returns 0 when every run succeeded, 1 when some
/// failed or diverged, 128 + N when signal N stopped it (the runs are resumable).
/// Bad input (config, data, arguments) throws util::UserError before any run starts.
/// Launched by torchrun or srun with several processes (distributed/
/// launch_environment.hpp), all processes train each run together, data
/// parallel; the leader (rank 0) alone writes the experiment folder.
int run_experiment(const ExperimentRequest& request);

/// The runs run_experiment would plan (`dpsgd-run plan`), loading the data on
/// the CPU to size it; the request's selection applies.
nlohmann::json plan_experiment(const ExperimentRequest& request);

/// The device a choice resolves to (auto: CUDA when LibTorch sees one); `index`
/// picks the CUDA device (-1: device 0). Throws util::UserError for a CUDA
/// device LibTorch does not see.
torch::Device resolve_device(config::DeviceChoice choice, int index = -1);

}  // namespace dpsgd::experiment
