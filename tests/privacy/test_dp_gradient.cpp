// The private step's own invariants (privacy/dp_gradient.hpp): it refuses a
// sampler that is not Poisson at its q, and it tells the accountant exactly the
// sigma and q of every step it took, the empty batch included; with sigma = 0 and
// a huge C it is the non-private gradient divided by the expected batch size.
#include <cmath>

#include <catch2/catch.hpp>

#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/data/sampling/poisson_sampler.hpp"
#include "dpsgd/data/sampling/shuffle_sampler.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/train/trainer.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;

namespace {

struct Fixture {
  models::ModelPtr model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  privacy::PrivateModel pm = privacy::inspect_model(*model);
  std::shared_ptr<models::CrossEntropyObjective> objective =
      std::make_shared<models::CrossEntropyObjective>();
  std::unique_ptr<privacy::DpGradient> dp(double sigma, std::int64_t batch, std::int64_t n) {
    auto options = test::dp_options(sigma, batch, 0, "ghost");
    options.dataset_size = n;
    return test::make_dp(pm, objective, test::make_clipper("flat", {{"max_grad_norm", 1.0}}, pm),
                         options);
  }
};

}  // namespace

TEST_CASE("private step: q is batch / N, and only a Poisson sampler at that q passes", "[dpstep]") {
  Fixture f;
  auto dp = f.dp(1.3, 16, 400);
  REQUIRE(dp->sample_rate() == data::poisson_sample_rate(16, 400));
  REQUIRE(dp->sample_rate() == 0.04);
  REQUIRE_NOTHROW(dp->check_sampler(data::PoissonSampler(400, 0.04, 1)));
  REQUIRE_THROWS_WITH(dp->check_sampler(data::ShuffleSampler(400, 16, 1)),
                      Catch::Contains("Poisson"));
  REQUIRE_THROWS_WITH(dp->check_sampler(data::PoissonSampler(400, 0.05, 1)),
                      Catch::Contains("q = 0.04"));
  REQUIRE(data::make_sampler(data::Sampling::kPoisson, 400, 16, util::RandomSource::seeded(1))
              ->poisson_rate() == 0.04);
  REQUIRE_FALSE(data::make_sampler(data::Sampling::kShuffle, 400, 16, util::RandomSource::seeded(1))
                    ->poisson_rate());
  REQUIRE_THROWS_AS(f.dp(1.0, 500, 400), std::invalid_argument);  // q > 1
}

TEST_CASE("private step: the accountant records every step with the step's own sigma and q",
          "[dpstep]") {
  Fixture f;
  auto dp = f.dp(1.7, 10, 250);
  REQUIRE(dp->accountant().history().empty());
  // No epsilon for batches that no checked Poisson sampler drew.
  REQUIRE_THROWS_WITH(dp->epsilon(1e-5), Catch::Contains("Poisson"));
  dp->check_sampler(data::PoissonSampler(250, 0.04, 3));
  REQUIRE(accounting::reported_epsilon(dp->epsilon(1e-5)) == 0.0);
  const auto x = torch::rand({3, 1, 28, 28});
  const auto y = torch::randint(0, 10, {3}, torch::kInt64);
  dp->compute(x, y);
  dp->compute(x.narrow(0, 0, 0), y.narrow(0, 0, 0));  // an empty Poisson draw is a step too
  dp->compute(x, y);
  const auto& h = dp->accountant().history();
  REQUIRE(h.size() == 1);
  REQUIRE(h[0].steps == 3);
  REQUIRE(h[0].noise_multiplier == 1.7);
  REQUIRE(h[0].sample_rate == dp->sample_rate());
  REQUIRE(accounting::reported_epsilon(dp->epsilon(1e-5)) > 0.0);
  // The check belongs before the first accounted step.
  REQUIRE_THROWS(dp->check_sampler(data::PoissonSampler(250, 0.04, 3)));
}

TEST_CASE("private step: the accountant gets sigma while the noise uses sigma_g and Delta",
          "[dpstep]") {
  Fixture f;
  const auto x = torch::rand({4, 1, 28, 28});
  const auto y = torch::randint(0, 10, {4}, torch::kInt64);
  // Adaptive clipping releases a noisy count: the gradient gets sigma_g > sigma
  // (sigma^-2 = sigma_g^-2 + (2 sigma_b)^-2), the accountant is told sigma.
  auto adaptive = test::make_clipper("adaptive", {{"max_grad_norm", 0.5}, {"count_noise_std", 2.0}},
                                     f.pm, 10.0, 1.5);
  auto options = test::dp_options(1.5, 10, 0, "auto");
  options.dataset_size = 250;
  auto dp = test::make_dp(f.pm, f.objective, adaptive, options);
  const double sigma_g = 1.0 / std::sqrt(1.0 / (1.5 * 1.5) - 1.0 / 16.0);
  REQUIRE(dp->noise_std() == Approx(sigma_g * 0.5));
  dp->compute(x, y);
  REQUIRE(dp->accountant().history().at(0).noise_multiplier == 1.5);
  // Microbatches: Delta = 2C, the accountant still gets sigma.
  auto flat = test::make_clipper("flat", {{"max_grad_norm", 0.5}}, f.pm);
  auto micro_options = test::dp_options(1.5, 10, 0, "auto", /*microbatches=*/2);
  micro_options.dataset_size = 250;
  auto micro = test::make_dp(f.pm, f.objective, flat, micro_options);
  REQUIRE(micro->noise_std() == Approx(1.5 * 2.0 * 0.5));
  micro->compute(x, y);
  REQUIRE(micro->accountant().history().at(0).noise_multiplier == 1.5);
  // A clipper whose split leaves the gradient no valid noise is refused: the
  // adaptive clipper above (2 sigma_b = 4) cannot serve a step of sigma 5.
  auto too_little = test::dp_options(5.0, 10, 0, "auto");
  too_little.dataset_size = 250;
  REQUIRE_THROWS_AS(test::make_dp(f.pm, f.objective, adaptive, too_little), std::invalid_argument);
}

TEST_CASE("training refuses a private run whose sampler is not Poisson", "[dpstep][train]") {
  Fixture f;
  train::TrainParts parts;
  parts.model = f.model;
  parts.objective = f.objective;
  const auto x = torch::rand({64, 1, 28, 28});
  const auto y = torch::randint(0, 10, {64}, torch::kInt64);
  parts.train = data::TensorDataset{x, y};
  parts.test = data::TensorDataset{x, y};
  parts.optimizer =
      std::make_unique<torch::optim::SGD>(f.model->parameters(), torch::optim::SGDOptions(0.1));
  parts.dp = f.dp(1.0, 8, 64);
  train::TrainOptions options;
  options.batch_size = 8;
  options.sampling = data::Sampling::kShuffle;
  const auto dir = std::filesystem::temp_directory_path() / "dpsgd_test_dp_gradient_metrics.json";
  train::MetricsLog log(dir, 0.0);
  REQUIRE_THROWS_WITH(train::run_training(parts, options, log, "r", torch::kCPU),
                      Catch::Contains("Poisson"));
  REQUIRE(parts.dp->accountant().history().empty());  // refused before any step
}

TEST_CASE("sigma = 0 and huge C: the private gradient is the non-private one", "[dpstep]") {
  torch::manual_seed(6);
  auto model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  model->to(torch::kFloat64);
  const auto x = torch::rand({9, 1, 28, 28}, torch::kFloat64);
  const auto y = torch::randint(0, 10, {9}, torch::kInt64);
  const std::int64_t expected_batch = 12;  // differs from the drawn 9 on purpose

  auto objective_ptr = std::make_shared<models::CrossEntropyObjective>();
  const auto& objective = *objective_ptr;
  auto pm = privacy::inspect_model(*model);
  // Non-private reference: sum reduction divided by the expected batch size.
  const auto loss = objective.per_example_loss(model->forward(x), y).sum() / expected_batch;
  const auto ref = torch::autograd::grad({loss}, pm.params);

  for (const std::string engine : {"loop", "materialize", "ghost"}) {
    auto clipper = std::make_shared<privacy::FlatClipper>(1e9);
    auto dp =
        test::make_dp(pm, objective_ptr, clipper,
                      test::dp_options(/*sigma=*/0.0, expected_batch, /*physical=*/4, engine));
    const auto stats = dp->compute(x, y);
    REQUIRE(stats.batch_size == 9);
    REQUIRE(stats.clipped == 0);
    for (std::size_t k = 0; k < pm.params.size(); ++k) {
      INFO(engine << " " << pm.param_names[k]);
      REQUIRE(torch::allclose(pm.params[k].grad(), ref[k], 1e-9, 1e-12));
    }
  }
}
