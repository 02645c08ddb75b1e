#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/models/zoo/model_options.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/train/run_status.hpp"

using dpsgd::train::RunStatus;

TEST_CASE("run statuses round-trip through their names, final ones are skipped", "[train]") {
  for (auto s : {RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed,
                 RunStatus::kDiverged, RunStatus::kInterrupted, RunStatus::kBudgetExhausted}) {
    REQUIRE(dpsgd::train::parse_status(dpsgd::train::status_name(s)) == s);
  }
  REQUIRE_FALSE(dpsgd::train::parse_status("pending").has_value());
  REQUIRE(dpsgd::train::is_final(RunStatus::kCompleted));
  REQUIRE(dpsgd::train::is_final(RunStatus::kBudgetExhausted));
  REQUIRE(dpsgd::train::is_final(RunStatus::kDiverged));
  REQUIRE_FALSE(dpsgd::train::is_final(RunStatus::kInterrupted));
  REQUIRE_FALSE(dpsgd::train::is_final(RunStatus::kFailed));
  REQUIRE_FALSE(dpsgd::train::is_final(RunStatus::kRunning));
}

TEST_CASE("model and optimizer state round-trip into fresh objects", "[train][state]") {
  dpsgd::models::ModelOptions options;
  options.in_channels = 1;
  options.image_size = 28;
  const auto& make = dpsgd::models::model_registry().get("tanh_cnn");
  torch::manual_seed(1);
  auto a = make(options);
  torch::optim::SGD opt_a(a->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  const auto x = torch::randn({4, 1, 28, 28});
  for (int i = 0; i < 2; ++i) {
    opt_a.zero_grad();
    a->forward(x).sum().backward();
    opt_a.step();
  }
  torch::manual_seed(2);
  auto b = make(options);
  torch::optim::SGD opt_b(b->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  dpsgd::train::load_model_tensors(*b, dpsgd::train::model_tensors(*a));
  dpsgd::train::load_optimizer_state(opt_b, dpsgd::train::optimizer_state(opt_a));
  opt_a.zero_grad();  // one more step each: the momentum buffers must agree
  opt_b.zero_grad();
  a->forward(x).sum().backward();
  b->forward(x).sum().backward();
  opt_a.step();
  opt_b.step();
  const auto ta = dpsgd::train::model_tensors(*a);
  const auto tb = dpsgd::train::model_tensors(*b);
  REQUIRE(ta.size() == tb.size());
  for (const auto& [name, t] : ta) REQUIRE(torch::equal(t, tb.at(name)));
  auto wrong = ta;
  wrong.erase(wrong.begin());
  REQUIRE_THROWS_WITH(dpsgd::train::load_model_tensors(*b, wrong), Catch::Contains("missing"));
}

TEST_CASE("torch's global generator state round-trips", "[train][state]") {
  const auto saved = dpsgd::train::global_generator_state(torch::kCPU);
  const auto first = torch::rand({8});
  dpsgd::train::load_global_generator_state(saved, torch::kCPU);
  REQUIRE(torch::equal(torch::rand({8}), first));
}
