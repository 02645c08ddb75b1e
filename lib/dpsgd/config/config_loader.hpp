#pragma once
// Reads an experiment YAML into an ExperimentConfig, strictly: an unknown key,
// a value of the wrong type or out of range, or an unknown registry name is a
// util::UserError naming the file, the key and the value (exit code 2 in the app).
// `--set key=value` overrides are applied to the YAML tree first, with the value
// parsed as YAML, so they go through exactly the same checks.
#include <filesystem>
#include <string>
#include <vector>

#include "dpsgd/config/experiment_config.hpp"

namespace dpsgd::config {

ExperimentConfig load_experiment_config(const std::filesystem::path& path,
                                        const std::vector<std::string>& overrides = {});

/// Same, from YAML text (`source` names it in messages).
ExperimentConfig parse_experiment_config(const std::string& yaml_text,
                                         const std::filesystem::path& source,
                                         const std::vector<std::string>& overrides = {});

}  // namespace dpsgd::config
