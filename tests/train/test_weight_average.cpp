// train.ema: the average follows a <- d_t a + (1 - d_t) theta from a = theta_0,
// with d_t = min(decay, (1 + t) / (10 + t)) under warm-up; the swap puts the
// average into the model and the raw weights back; the state round-trips.
#include <catch2/catch.hpp>

#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/train/weight_average.hpp"
#include "tests/helpers/rule_checks.hpp"

using namespace dpsgd;
using dpsgd::test::require_close;

namespace {

models::ModelPtr small_model() {
  models::ModelOptions o;
  o.in_features = 6;
  o.num_classes = 3;
  return models::model_registry().get("linear")(o);
}

void set_all(models::Model& model, double value) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.fill_(value);
}

}  // namespace

TEST_CASE("weight average: the EMA recursion with and without warm-up", "[train][ema]") {
  for (bool warmup : {false, true}) {
    INFO("warmup " << warmup);
    auto model = small_model();
    set_all(*model, 1.0);
    train::WeightAverage average(*model, 0.9, warmup);
    double expected = 1.0;
    for (int t = 0; t < 30; ++t) {
      const double theta = 2.0 + t;
      set_all(*model, theta);
      const double d = warmup ? std::min(0.9, (1.0 + t) / (10.0 + t)) : 0.9;
      CHECK(average.next_decay() == Approx(d));
      average.update();
      expected = d * expected + (1 - d) * theta;
    }
    for (const auto& a : average.averages()) {
      require_close(a, torch::full_like(a, expected), 1e-5);
    }
  }
}

TEST_CASE("weight average: the swap evaluates the average and restores the raw weights",
          "[train][ema]") {
  auto model = small_model();
  set_all(*model, 3.0);
  train::WeightAverage average(*model, 0.5, false);
  set_all(*model, 5.0);
  average.update();  // 0.5 * 3 + 0.5 * 5 = 4
  {
    train::WeightAverage::Swap swap(average);
    for (const auto& p : model->parameters()) require_close(p, torch::full_like(p, 4.0), 1e-6);
  }
  for (const auto& p : model->parameters()) require_close(p, torch::full_like(p, 5.0), 1e-6);
}

TEST_CASE("weight average: the state round-trips and a misfit is refused", "[train][ema]") {
  auto model = small_model();
  set_all(*model, 1.0);
  train::WeightAverage average(*model, 0.99, true);
  set_all(*model, 2.0);
  average.update();
  average.update();
  const auto state = average.state();
  train::WeightAverage restored(*model, 0.99, true);
  restored.load_state(state);
  CHECK(restored.next_decay() == Approx(average.next_decay()));
  for (std::size_t k = 0; k < average.averages().size(); ++k) {
    require_close(restored.averages()[k], average.averages()[k], 0.0);
  }
  models::ModelOptions o;
  o.in_features = 7;
  o.num_classes = 3;
  auto other = models::model_registry().get("linear")(o);
  train::WeightAverage misfit(*other, 0.99, true);
  REQUIRE_THROWS_AS(misfit.load_state(state), std::runtime_error);
}
