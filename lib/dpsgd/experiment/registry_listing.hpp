#pragma once
// `dpsgd-run list`: every name a config file may use, registry by registry, with its
// one-line description. Built only from util::Registry's names() and description(),
// so it stays independent of each registry's factory type.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpsgd::experiment {

struct RegistryEntry {
  std::string name;
  std::string description;
};

struct RegistryListing {
  std::string registry;                ///< key in the JSON output, e.g. "engines"
  std::string config_key;              ///< where a config names an entry, e.g. "privacy.engine"
  std::vector<RegistryEntry> entries;  ///< in name order
};

/// Data sets, models, losses, engines, clipping modes, accountants, optimizers and
/// learning-rate schedules, in that order.
[[nodiscard]] std::vector<RegistryListing> builtin_registries();

/// One section per registry ("engines (privacy.engine):"), one indented line per name.
[[nodiscard]] std::string registries_text(const std::vector<RegistryListing>& listings);

/// {"engines": [{"name": ..., "description": ...}, ...], ...}.
[[nodiscard]] nlohmann::json registries_json(const std::vector<RegistryListing>& listings);

}  // namespace dpsgd::experiment
