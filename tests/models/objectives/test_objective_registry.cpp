// The loss registry states which targets each loss takes; `auto` is the default
// loss for the data's kind of targets, found by that property, not by name.
#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/objective_registry.hpp"

using dpsgd::models::default_objective;
using dpsgd::models::objective_registry;
using dpsgd::models::TargetKind;

TEST_CASE("loss registry: auto resolves by target kind, every loss states its targets",
          "[objective]") {
  REQUIRE(default_objective(TargetKind::kClassLabels) == "cross_entropy");
  REQUIRE(default_objective(TargetKind::kPixelMasks) == "cross_entropy_dice");
  for (const auto& name : objective_registry().names()) {
    INFO(name);
    REQUIRE_FALSE(objective_registry().get(name).targets.empty());
    REQUIRE(objective_registry().get(name).make != nullptr);
  }
}
