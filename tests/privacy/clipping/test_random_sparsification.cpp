// Random sparsification (Zhu & Blaschko 2023): its cooling schedule, exactly
// floor(r d) dropped coordinates, masks that are a function of (seed, period),
// and noise only on kept coordinates.
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

TEST_CASE("random sparsification: schedule, kept fraction, seeded masks, noise only on kept",
          "[clipping][sparsification]") {
  privacy::SparsificationSchedule s{0.9, 2, 5, 3};  // 2 refreshes/epoch, 5 steps/epoch, 3 epochs
  REQUIRE(s.period(0) == 0);
  REQUIRE(s.period(1) == 0);
  REQUIRE(s.period(2) == 1);  // periods of floor(5/2) = 2 steps; the leftover joins the last
  REQUIRE(s.period(4) == 1);
  REQUIRE(s.period(5) == 2);
  REQUIRE(s.period(14) == 5);
  REQUIRE(s.rate(0) == 0.0);
  REQUIRE(s.rate(5) == Approx(0.9));
  REQUIRE(s.rate(2) == Approx(0.9 * 2.0 / 5.0));

  auto model = small_model(9);
  auto pm = privacy::inspect_model(*model);
  std::int64_t d = 0;
  for (const auto& p : pm.params) d += p.numel();
  const nlohmann::json o = {{"final_rate", 0.9}};
  auto a = make_clipper("random_sparsification", o, pm);
  auto a2 = make_clipper("random_sparsification", o, pm);
  a->begin_step(11);  // facts: 4 steps/epoch, 3 epochs, refresh 1 -> period 2 of 0..2: rate 0.9
  a2->begin_step(11);
  std::int64_t kept = 0;
  for (const auto& m : *a->coordinate_masks()) kept += m.sum().item<std::int64_t>();
  REQUIRE(d - kept == static_cast<std::int64_t>(std::floor(0.9 * static_cast<double>(d))));
  for (std::size_t k = 0; k < pm.num_params(); ++k) {
    REQUIRE(torch::equal((*a->coordinate_masks())[k], (*a2->coordinate_masks())[k]));
  }
  // The next period draws a new mask (the rate at step 4 is 0.45).
  a2->begin_step(4);
  std::int64_t kept4 = 0;
  for (const auto& m : *a2->coordinate_masks()) kept4 += m.sum().item<std::int64_t>();
  REQUIRE(d - kept4 == static_cast<std::int64_t>(std::floor(0.45 * static_cast<double>(d))));

  // Noise lands only on kept coordinates: with sigma > 0 and a zero-gradient
  // batch (empty), dropped coordinates are exactly 0 and kept ones are not.
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto clipper = make_clipper("random_sparsification", o, pm);
  auto dp = test::make_dp(pm, objective, clipper, test::dp_options(1.0, 8, 0, "materialize"),
                          /*noise_seed=*/1);
  const auto empty = random_batch(0, 1);
  for (int step = 0; step < 12; ++step) dp->compute(empty.x, empty.y);  // ends in period 2
  const auto& masks = *clipper->coordinate_masks();
  for (std::size_t k = 0; k < pm.num_params(); ++k) {
    const auto g = pm.params[k].grad();
    REQUIRE(torch::all(g.masked_select(masks[k] == 0) == 0).item<bool>());
    REQUIRE(torch::all(g.masked_select(masks[k] == 1) != 0).item<bool>());
  }
}
