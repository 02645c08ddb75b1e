#include "dpsgd/models/objectives/objective_registry.hpp"

namespace dpsgd::models {

void register_builtin_objectives(ObjectiveRegistry& registry) {
  registry.add("cross_entropy", "cross-entropy on logits (per pixel and averaged for masks)",
               [](const ObjectiveOptions&) -> std::shared_ptr<Objective> {
                 return std::make_shared<CrossEntropyObjective>();
               });
  registry.add("cross_entropy_dice", "per-pixel cross-entropy plus soft Dice, per example",
               [](const ObjectiveOptions& o) -> std::shared_ptr<Objective> {
                 CrossEntropyDiceOptions d;
                 d.num_classes = o.num_classes;
                 d.ce_weight = o.ce_weight;
                 d.dice_weight = o.dice_weight;
                 d.score_classes = o.score_classes;
                 return std::make_shared<CrossEntropyDiceObjective>(d);
               });
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
