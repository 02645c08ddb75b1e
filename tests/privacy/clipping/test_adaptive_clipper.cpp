// Adaptive clipping (Andrew et al. 2021): the threshold tracks the target
// quantile, and the noise split keeps the step's total multiplier sigma.
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

namespace {
privacy::GaussianNoise count_noise() { return privacy::GaussianNoise(5, torch::kCPU); }
}  // namespace

TEST_CASE("adaptive clipping: C tracks the target quantile, noise split keeps sigma",
          "[clipping][adaptive]") {
  // sigma_g from sigma^-2 = sigma_g^-2 + (2 sigma_b)^-2.
  privacy::AdaptiveClippingOptions o{1.0, 0.5, 0.2, 1.0};
  privacy::AdaptiveClipper clipper(o, 100.0, 1.0, count_noise());
  REQUIRE(clipper.gradient_noise_multiplier(1.0) == Approx(1.0 / std::sqrt(0.75)));
  REQUIRE_THROWS(privacy::AdaptiveClipper(o, 100.0, 2.0, count_noise()));  // 2 sigma_b = 2 = sigma

  for (double quantile : {0.3, 0.5, 0.9}) {
    privacy::AdaptiveClippingOptions q{0.01, quantile, 0.2, 0.0};  // sigma_b = 1000/20
    privacy::AdaptiveClipper ac(q, 1000.0, 1.0, count_noise());
    auto gen = at::detail::createCPUGenerator(17);
    for (int t = 0; t < 400; ++t) {
      // Norms ~ |N(0, 4)|: the p-quantile is 2 * Phi^-1((1 + p) / 2).
      const auto norms = at::randn({1000}, gen, torch::kFloat64).abs().mul(2.0);
      ac.end_step(norms, 1000.0, 1.0);
    }
    const double expected = quantile == 0.3   ? 2 * 0.38532
                            : quantile == 0.5 ? 2 * 0.67449
                                              : 2 * 1.64485;
    INFO("quantile " << quantile << " C " << ac.threshold());
    REQUIRE(ac.threshold() == Approx(expected).epsilon(0.1));
    REQUIRE(ac.log_values().front().second == ac.threshold());
  }
}
