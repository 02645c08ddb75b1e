// Canaries (lib/dpsgd/audit): a gradient canary enters the private step's clipped
// sum exactly as an example whose clipped gradient is Delta * u (before the
// noise, at the step's Poisson rate, counted in the batch), with every engine;
// scores read the final weights' movement along u; input canaries are wrongly
// labelled examples of which the included ones, and only those, are trained on.
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/audit/gradient_canaries.hpp"
#include "dpsgd/audit/input_canaries.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;

namespace {

std::vector<std::vector<std::int64_t>> shapes_of(const privacy::PrivateModel& pm) {
  std::vector<std::vector<std::int64_t>> out;
  for (const auto& p : pm.params) out.push_back(p.sizes().vec());
  return out;
}

}  // namespace

TEST_CASE("gradient canaries are examples of norm Delta in the clipped sum", "[audit]") {
  torch::manual_seed(3);
  auto model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  model->to(torch::kFloat64);
  auto pm = privacy::inspect_model(*model);
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  const auto x = torch::rand({9, 1, 28, 28}, torch::kFloat64);
  const auto y = torch::randint(0, 10, {9}, torch::kInt64);
  const double clip = 0.5;
  const std::int64_t expected_batch = 12;
  const std::int64_t m = 300;
  std::vector<bool> included(m, true);
  for (std::int64_t i = 0; i < m; i += 3) included[static_cast<std::size_t>(i)] = false;
  for (const std::string engine : {"loop", "materialize", "ghost"}) {
    INFO(engine);
    const auto options = test::dp_options(0.0, expected_batch, 4, engine);
    const double q =
        static_cast<double>(expected_batch) / static_cast<double>(options.dataset_size);
    auto plain =
        test::make_dp(pm, objective, std::make_shared<privacy::FlatClipper>(clip), options);
    const auto base_stats = plain->compute(x, y);
    std::vector<torch::Tensor> base;
    for (const auto& p : pm.params) base.push_back(p.grad().clone());
    auto with = test::make_dp(pm, objective, std::make_shared<privacy::FlatClipper>(clip), options);
    auto canaries =
        std::make_shared<audit::GradientCanaries>(11, included, pm.param_names, shapes_of(pm));
    with->set_injected(canaries);
    const auto stats = with->compute(x, y);
    // The reference: the same step's canaries, added by hand to zero sums.
    audit::GradientCanaries again(11, included, pm.param_names, shapes_of(pm));
    std::vector<torch::Tensor> expect;
    for (const auto& p : pm.params) expect.push_back(torch::zeros_like(p));
    const auto added = again.add_to(expect, /*step=*/0, q, clip);
    REQUIRE(added > 0);
    REQUIRE(canaries->injections() == added);
    REQUIRE(stats.batch_size == base_stats.batch_size);  // the real examples' statistics
    REQUIRE(stats.loss_sum == Approx(base_stats.loss_sum));
    double norm2 = 0;
    for (std::size_t k = 0; k < pm.params.size(); ++k) {
      const auto diff = (pm.params[k].grad() - base[k]) * static_cast<double>(expected_batch);
      REQUIRE(torch::allclose(diff, expect[k], 1e-9, 1e-12));
      norm2 += expect[k].pow(2).sum().item<double>();
    }
    REQUIRE(norm2 > 0);
  }
  SECTION("each direction has unit norm; excluded canaries never join; rate q") {
    audit::GradientCanaries c(11, included, pm.param_names, shapes_of(pm));
    REQUIRE(c.direction(5).norm().item<double>() == Approx(1.0).epsilon(1e-12));
    std::int64_t total = 0;
    const double q = 0.05;
    for (std::int64_t step = 0; step < 200; ++step) {
      std::vector<torch::Tensor> sums;
      for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
      total += c.add_to(sums, step, q, 1.0);
    }
    REQUIRE(c.count_injections(200, q) == total);  // replayed from (seed, step) alone
    const double mean = 200.0 * q * 200;           // 200 included canaries, 200 steps
    REQUIRE(std::abs(static_cast<double>(total) - mean) < 5 * std::sqrt(mean));
  }
}

TEST_CASE("gradient canary scores: movement against u, only for that canary", "[audit]") {
  const std::vector<std::string> names = {"a", "b"};
  const std::vector<std::vector<std::int64_t>> shapes = {{40, 30}, {30}};
  audit::GradientCanaries c(4, std::vector<bool>(50, true), names, shapes);
  const auto u = c.direction(7);
  std::map<std::string, torch::Tensor> start = {{"a", torch::zeros({40, 30})},
                                                {"b", torch::zeros({30})}};
  std::map<std::string, torch::Tensor> end = {
      {"a", (-2.0 * u.narrow(0, 0, 1200)).view({40, 30}).to(torch::kFloat32)},
      {"b", (-2.0 * u.narrow(0, 1200, 30)).to(torch::kFloat32)}};
  const auto scores = c.scores(start, end);
  REQUIRE(scores.size() == 50);
  REQUIRE(scores[7] == Approx(2.0).epsilon(1e-6));
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (i != 7) REQUIRE(std::abs(scores[i]) < 0.5);  // random directions: about 2 / sqrt(1230)
  }
  REQUIRE_THROWS(c.scores({{"a", torch::zeros({40, 30})}}, end));
}

TEST_CASE("gradient canaries refuse microbatches and counting clippers", "[audit]") {
  auto model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  auto pm = privacy::inspect_model(*model);
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto canaries = std::make_shared<audit::GradientCanaries>(1, std::vector<bool>{true},
                                                            pm.param_names, shapes_of(pm));
  auto micro = test::make_dp(pm, objective, std::make_shared<privacy::FlatClipper>(1.0),
                             test::dp_options(1.0, 8, 0, "auto", /*microbatches=*/4));
  REQUIRE_THROWS_AS(micro->set_injected(canaries), std::invalid_argument);
  auto adaptive = test::make_dp(
      pm, objective,
      test::make_clipper("adaptive", {{"max_grad_norm", 0.5}, {"count_noise_std", 2.0}}, pm, 8.0,
                         1.0),
      test::dp_options(1.0, 8, 0, "ghost"));
  REQUIRE_THROWS_AS(adaptive->set_injected(canaries), std::invalid_argument);
}

TEST_CASE("membership is a fair coin per canary, a function of the seed", "[audit]") {
  const auto a = audit::draw_membership(5, 2000);
  REQUIRE(a == audit::draw_membership(5, 2000));
  REQUIRE(a != audit::draw_membership(6, 2000));
  const auto in = std::count(a.begin(), a.end(), true);
  REQUIRE(std::abs(static_cast<double>(in) - 1000.0) < 5 * std::sqrt(500.0));
}

TEST_CASE("input canaries: wrong labels, included ones trained on, the rest held out", "[audit]") {
  const std::int64_t n = 500;
  data::TensorDataset train{torch::arange(n, torch::kFloat32).view({n, 1, 1, 1}),
                            torch::arange(n, torch::kInt64).remainder(10), "toy"};
  const auto c = audit::make_input_canaries(train, 10, 100, 9);
  REQUIRE(c.canaries.size() == 100);
  const auto included = std::count(c.included.begin(), c.included.end(), true);
  REQUIRE(c.train.size() == n - 100 + included);
  for (std::int64_t i = 0; i < 100; ++i) {
    // The input's value is its original index: its true label is index mod 10.
    const auto original = static_cast<std::int64_t>(c.canaries.inputs[i].item<float>());
    REQUIRE(c.canaries.targets[i].item<std::int64_t>() != original % 10);
  }
  // Every training example is distinct: 400 originals and the included canaries.
  const auto values = std::get<0>(torch::_unique(c.train.inputs.view({-1})));
  REQUIRE(values.size(0) == c.train.size());
  REQUIRE_THROWS(audit::make_input_canaries(train, 10, 500, 9));
}
