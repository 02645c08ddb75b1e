#pragma once
// The loss registry, keyed by the YAML `train.loss.name`. "auto" is resolved by
// the experiment layer from the data (class targets: cross_entropy; per-pixel
// targets: cross_entropy_dice) before a factory is asked for.
#include <functional>
#include <memory>
#include <string>
#include <vector>

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

/// The targets a loss works on: one class label per example, or per-pixel masks.
enum class TargetKind { kClassLabels, kPixelMasks };

struct ObjectiveEntry {
  std::vector<TargetKind> targets;  ///< the kinds this loss accepts
  /// Whether `auto` means this loss for targets of kind targets.front().
  bool default_for_targets = false;
  ObjectiveFactory make;
};
using ObjectiveRegistry = util::Registry<ObjectiveEntry>;

/// The name that asks for the default loss of the data's targets.
inline constexpr const char* kAutoLoss = "auto";

/// The registry key `auto` means for targets of `kind`.
std::string default_objective(TargetKind kind);

void register_builtin_objectives(ObjectiveRegistry& registry);
const ObjectiveRegistry& objective_registry();

}  // namespace dpsgd::models
