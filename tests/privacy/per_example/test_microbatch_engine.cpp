// TF-Privacy microbatches: each microbatch's mean gradient is clipped, the noise
// is for 2C, and only the microbatch engine runs them.
#include <algorithm>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/clipping/random_sparsification.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "tests/helpers/clipping_reference.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;
using namespace dpsgd::test;

TEST_CASE("microbatches: each microbatch's mean gradient is clipped, noise for 2C",
          "[clipping][microbatches]") {
  auto model = small_model(11);
  auto pm = privacy::inspect_model(*model);
  const auto b = random_batch(6, 12);
  const auto grads = explicit_grads(*model, pm, b);
  Grads mean;
  for (std::size_t k = 0; k < pm.num_params(); ++k) {
    auto s = torch::zeros_like(pm.params[k]);
    for (const auto& g : grads) s += g[k];
    mean.push_back(s / 6.0);
  }
  const double n = std::sqrt(sq_norm(mean, all_params(pm)));
  nlohmann::json o = {{"max_grad_norm", 0.5 * n}};
  // One microbatch: the whole batch's mean, clipped (the sum of one term / m = 1).
  const auto got = dp_sum(pm, make_clipper("flat", o, pm), "microbatch", b, 1);
  Grads ref;
  for (const auto& t : mean) ref.push_back(t * 0.5);
  REQUIRE(max_rel_error(got, ref) < 1e-9);

  // Many microbatches with a huge C: sum of microbatch means / m; every
  // example's gradient enters exactly once, weighted by 1/|its microbatch|.
  o["max_grad_norm"] = 1e9;
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto dp = test::make_dp(pm, objective, make_clipper("flat", o, pm),
                          test::dp_options(2.0, 6, 0, "auto", /*microbatches=*/3, /*seed=*/5));
  REQUIRE(dp->noise_std() == Approx(2.0 * 2.0 * 1e9));
  REQUIRE(dp->engine_name() == "microbatch");
  for (const std::string engine : {"ghost", "materialize", "loop"}) {
    INFO(engine);
    REQUIRE_THROWS_AS(test::make_dp(pm, objective, make_clipper("flat", o, pm),
                                    test::dp_options(2.0, 6, 0, engine, /*microbatches=*/3)),
                      std::invalid_argument);
  }
}
