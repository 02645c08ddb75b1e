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

/// A file may define `variants: {name: {dotted.key: value, ...}, ...}`: each
/// variant is the file's config with its settings applied (then the --set
/// overrides), e.g. one variant per model and clipping method of a study. Returns
/// one config per variant (c.variant = its name), or the file's single config
/// when it has no variants. `only` (non-empty) keeps the named variants.
std::vector<ExperimentConfig> load_experiment_variants(
    const std::filesystem::path& path, const std::vector<std::string>& overrides = {},
    const std::vector<std::string>& only = {});

/// The same from YAML text (`source` names it in messages).
std::vector<ExperimentConfig> parse_experiment_variants(
    const std::string& yaml_text, const std::filesystem::path& source,
    const std::vector<std::string>& overrides = {}, const std::vector<std::string>& only = {});

/// One config from YAML text (`source` names it in messages); refuses a text
/// with `variants:` (use parse_experiment_variants).
ExperimentConfig parse_experiment_config(const std::string& yaml_text,
                                         const std::filesystem::path& source,
                                         const std::vector<std::string>& overrides = {});

}  // namespace dpsgd::config
