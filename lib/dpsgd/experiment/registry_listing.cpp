#include "dpsgd/experiment/registry_listing.hpp"

#include <algorithm>
#include <sstream>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/models/objectives/objective_registry.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/train/lr_schedule.hpp"
#include "dpsgd/train/optimizer_registry.hpp"

namespace dpsgd::experiment {
namespace {

// A template over the registry type so that only names() and description() are used:
// the factory types can change without touching this file.
template <typename Registry>
RegistryListing listing(std::string registry, std::string config_key, const Registry& r) {
  RegistryListing out{std::move(registry), std::move(config_key), {}};
  for (const std::string& name : r.names()) out.entries.push_back({name, r.description(name)});
  return out;
}

}  // namespace

std::vector<RegistryListing> builtin_registries() {
  return {
      listing("datasets", "data.name", data::dataset_registry()),
      listing("models", "model.name", models::model_registry()),
      listing("losses", "train.loss.name", models::objective_registry()),
      listing("engines", "privacy.engine", privacy::engine_registry()),
      listing("clipping", "privacy.clipping.mode", privacy::clipper_registry()),
      listing("accountants", "privacy.accountant", accounting::accountant_registry()),
      listing("optimizers", "train.optimizer.name", train::optimizer_registry()),
      listing("lr_schedules", "train.optimizer.schedule.name", train::lr_schedule_registry()),
  };
}

std::string registries_text(const std::vector<RegistryListing>& listings) {
  std::ostringstream out;
  for (const RegistryListing& l : listings) {
    if (&l != &listings.front()) out << "\n";
    out << l.registry << " (" << l.config_key << "):\n";
    std::size_t width = 0;
    for (const RegistryEntry& e : l.entries) width = std::max(width, e.name.size());
    for (const RegistryEntry& e : l.entries) {
      out << "  " << e.name << std::string(width - e.name.size() + 2, ' ') << e.description << "\n";
    }
  }
  return out.str();
}

nlohmann::json registries_json(const std::vector<RegistryListing>& listings) {
  nlohmann::json out = nlohmann::json::object();
  for (const RegistryListing& l : listings) {
    nlohmann::json entries = nlohmann::json::array();
    for (const RegistryEntry& e : l.entries) {
      entries.push_back({{"name", e.name}, {"description", e.description}});
    }
    out[l.registry] = std::move(entries);
  }
  return out;
}

}  // namespace dpsgd::experiment
