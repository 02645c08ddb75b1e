#pragma once
// A run of a closed-form head (head.method dp_ls or dp_fc) in its folder:
// config.yaml, metrics.json (the evaluation rows), model.pt (a linear model's
// {fc.weight, fc.bias}, which `evaluate` and the `model` extractor load) and
// summary.json with the privacy header of the head's Gaussian mechanisms.
// The fit takes seconds, so there is no checkpoint: an interrupted run starts over.
#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/experiment/experiment_plan.hpp"

namespace dpsgd::experiment {

nlohmann::json run_closed_form(const config::ExperimentConfig& c, const RunPlan& plan,
                               const LoadedData& data, const torch::Device& device,
                               const std::filesystem::path& run_dir);

}  // namespace dpsgd::experiment
