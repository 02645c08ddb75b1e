#pragma once
// The loss registry, keyed by the YAML `train.loss.name`. "auto" is resolved by
// the experiment layer from the data (class targets: cross_entropy; per-pixel
// targets: cross_entropy_dice) before a factory is asked for.
#include <functional>
#include <memory>

#include "dpsgd/models/objectives/cross_entropy_dice_objective.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::models {

/// Typed loss options (filled from YAML by config/); each loss reads what applies.
struct ObjectiveOptions {
  std::int64_t num_classes = 10;
  double ce_weight = 1.0;
  double dice_weight = 1.0;
  std::vector<std::int64_t> score_classes;  ///< empty: all but class 0
};

using ObjectiveFactory = std::function<std::shared_ptr<Objective>(const ObjectiveOptions&)>;
using ObjectiveRegistry = util::Registry<ObjectiveFactory>;

void register_builtin_objectives(ObjectiveRegistry& registry);
const ObjectiveRegistry& objective_registry();

}  // namespace dpsgd::models
