#pragma once
// OUT/<run>/summary.json: how the run ended (status), its final metrics and
// epsilon, timings, memory, versions, the resolved config, and for private runs
// the privacy header: mechanism, sensitivity, neighbouring relation and sampling
// assumption, as the private step ran them.
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/train/trainer.hpp"

namespace dpsgd::experiment {

inline constexpr int kSummarySchemaVersion = 1;

struct RunRecord {
  const config::ExperimentConfig& config;
  const RunPlan& plan;
  const LoadedData& data;
  nlohmann::json resolved;  ///< the resolved config of the run
  std::string started;      ///< ISO 8601, UTC
};

nlohmann::json run_summary(const RunRecord& r, const train::TrainParts& parts,
                           const train::TrainResult& result, const torch::Device& device);

/// Adds what every summary states besides its results: example counts, seed,
/// device, machine, versions, and for runs on features the feature report and the
/// data splits (what was public, what was private, what the epsilon covers).
void add_run_context(nlohmann::json& summary, const config::ExperimentConfig& c,
                     const LoadedData& data, const torch::Device& device);

/// The current time as ISO 8601 in UTC, e.g. 2026-12-01T04:17:08Z.
std::string now_iso8601();

}  // namespace dpsgd::experiment
