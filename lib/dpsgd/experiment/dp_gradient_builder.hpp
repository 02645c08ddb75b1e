#pragma once
// Builds a run's private step (clipper, engine, noise source, accountant) from the
// typed config: the one place where config choices become privacy objects, used
// by training runs and by the bench alike.
#include <cstdint>
#include <memory>
#include <string>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"

namespace dpsgd::experiment {

struct DpGradientRequest {
  std::string engine;           ///< engine registry key (the config's, or the bench's choice)
  double sigma = 0.0;           ///< the noise multiplier, for the noise and the accountant alike
  std::int64_t train_size = 1;  ///< N: q = batch_size / N
};

/// Throws util::UserError naming the config file and key when the combination
/// is invalid (e.g. per-layer thresholds that do not match the model's layers).
std::unique_ptr<privacy::DpGradient> build_dp_gradient(
    const config::ExperimentConfig& c, models::Model& model,
    std::shared_ptr<const models::Objective> objective, const DpGradientRequest& request,
    const torch::Device& device);

}  // namespace dpsgd::experiment
