#pragma once
// What an experiment will do, settled before any run trains: each config's data
// loaded once (variants usually share it), and one plan per run (per noise
// multiplier, or per target epsilon with sigma calibrated for exactly the steps
// and sampling rate the run will use, and the step limit of privacy.max_epsilon).
// A bad value anywhere stops here, with util::UserError, before any training.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/features/feature_pipeline.hpp"

namespace dpsgd::experiment {

struct LoadedData {
  data::TensorDataset train;
  data::TensorDataset val;  ///< empty when the data set has no validation split
  data::TensorDataset test;
  /// With features.extractor: the inputs above are the features; what made them.
  std::optional<features::FeatureReport> features;
};

/// The config's data on `device`, subset as configured, turned into features when
/// features.extractor is set; checks shapes and sizes.
LoadedData load_data(const config::ExperimentConfig& c, const torch::Device& device);

struct RunPlan {
  std::string id;
  double sigma = 0.0;
  std::optional<double> target_epsilon;
  /// privacy.max_epsilon: the steps the budget allows, when below the planned steps.
  std::optional<std::int64_t> step_limit;
};

std::vector<RunPlan> plan_runs(const config::ExperimentConfig& c, std::int64_t train_size);

struct Planned {
  const config::ExperimentConfig* config;
  RunPlan plan;
  std::size_t data;  ///< index into Experiment::loaded
  /// The run's folder below the experiment folder: <run-id> or <variant>/<run-id>.
  [[nodiscard]] std::string directory() const;
};

struct Experiment {
  std::vector<config::ExperimentConfig> configs;
  std::vector<LoadedData> loaded;
  std::vector<Planned> planned;
};

/// Loads every distinct data section and plans every run of `x.configs`.
void load_and_plan(Experiment& x, const torch::Device& device);

}  // namespace dpsgd::experiment
