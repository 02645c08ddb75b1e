#include "dpsgd/models/objectives/objective_registry.hpp"

#include <stdexcept>

namespace dpsgd::models {

void register_builtin_objectives(ObjectiveRegistry& registry) {
  registry.add("cross_entropy", "cross-entropy on logits (per pixel and averaged for masks)",
               {{TargetKind::kClassLabels, TargetKind::kPixelMasks},
                /*default_for_targets=*/true,
                [](const ObjectiveOptions&) -> std::shared_ptr<Objective> {
                  return std::make_shared<CrossEntropyObjective>();
                }});
  registry.add("cross_entropy_dice", "per-pixel cross-entropy plus soft Dice, per example",
               {{TargetKind::kPixelMasks},
                /*default_for_targets=*/true,
                [](const ObjectiveOptions& o) -> std::shared_ptr<Objective> {
                  CrossEntropyDiceOptions d;
                  d.num_classes = o.num_classes;
                  d.ce_weight = o.ce_weight;
                  d.dice_weight = o.dice_weight;
                  d.score_classes = o.score_classes;
                  return std::make_shared<CrossEntropyDiceObjective>(d);
                }});
}

std::string default_objective(TargetKind kind) {
  const auto& registry = objective_registry();
  for (const auto& name : registry.names()) {
    const auto& entry = registry.get(name);
    if (entry.default_for_targets && entry.targets.front() == kind) return name;
  }
  throw std::logic_error("no default loss registered for these targets");
}

const ObjectiveRegistry& objective_registry() {
  static const ObjectiveRegistry registry = [] {
    ObjectiveRegistry r("loss");
    register_builtin_objectives(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::models
