// What the loaded data implies for the loss: auto follows the targets, and a loss
// that cannot take the data's targets is refused with the key to change.
#include <catch2/catch.hpp>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/util/error.hpp"

using namespace dpsgd;

TEST_CASE("task setup: auto loss from the targets, and losses refused for the wrong targets",
          "[objective][experiment]") {
  config::ExperimentConfig c;
  c.source = "t.yaml";
  c.model.options.num_classes = 3;
  const data::TensorDataset labels{torch::zeros({4, 1, 8, 8}), torch::tensor({0, 1, 2, 1})};
  const data::TensorDataset masks{torch::zeros({4, 1, 8, 8}),
                                  torch::randint(0, 3, {4, 8, 8}, torch::kInt64)};
  REQUIRE(experiment::resolved_loss_name(c, labels) == "cross_entropy");
  REQUIRE(experiment::resolved_loss_name(c, masks) == "cross_entropy_dice");
  c.loss.name = "cross_entropy_dice";
  REQUIRE_THROWS_WITH(experiment::build_objective(c, labels, {}, {}),
                      Catch::Contains("train.loss.name") && Catch::Contains("per-pixel"));
  REQUIRE(experiment::build_objective(c, masks, {}, {}) != nullptr);
  c.loss.name = "cross_entropy";  // takes both kinds
  REQUIRE(experiment::build_objective(c, labels, {}, {}) != nullptr);
  REQUIRE(experiment::build_objective(c, masks, {}, {}) != nullptr);
}
