#pragma once
// The resolved config of one run as JSON (summary.json) and as YAML
// (config.yaml, which dpsgd-run accepts back to repeat the run).
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/config/experiment_config.hpp"

namespace dpsgd::config {

/// The config with privacy.noise_multiplier as the scalar `sigma` of this run.
nlohmann::json run_config_json(const ExperimentConfig& config, double sigma);

/// Block-style YAML for a JSON document of objects, arrays and scalars.
std::string json_to_yaml(const nlohmann::json& document);

}  // namespace dpsgd::config
