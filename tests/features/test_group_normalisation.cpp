// Per-example group normalisation (Tramer & Boneh's GroupNorm of the ScatterNet
// channels): each group of each example has mean 0 and variance 1, and one
// example's output does not depend on any other example.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/features/group_normalisation.hpp"

using dpsgd::features::group_normalise;

TEST_CASE("group_normalise: each group of each example has mean 0, variance 1",
          "[features][group_norm]") {
  torch::manual_seed(3);
  const auto x = torch::randn({5, 6, 3, 3}, torch::kFloat64) * 4 + 7;
  const auto y = group_normalise(x, 3, 0.0);
  REQUIRE(y.sizes() == x.sizes());
  const auto g = y.reshape({5, 3, -1});
  CHECK(g.mean(-1).abs().max().item<double>() < 1e-12);
  CHECK((g.var(-1, false) - 1).abs().max().item<double>() < 1e-12);
  // Groups are contiguous channels: channels 0-1 of example 2 form group 0.
  const auto first = x[2].narrow(0, 0, 2);
  const auto expect = (first - first.mean()) / first.var(false).sqrt();
  CHECK(torch::allclose(y[2].narrow(0, 0, 2), expect, 1e-12, 1e-12));
}

TEST_CASE("group_normalise: an example's output ignores the other examples",
          "[features][group_norm]") {
  torch::manual_seed(4);
  auto x = torch::randn({4, 8});
  const auto y = group_normalise(x, 2);
  auto changed = x.clone();
  changed[1] *= 1000;  // another example, even an extreme one
  const auto z = group_normalise(changed, 2);
  for (const int i : {0, 2, 3}) CHECK(torch::equal(y[i], z[i]));
}

TEST_CASE("group_normalise: groups must divide the channels", "[features][group_norm]") {
  CHECK_THROWS_AS(group_normalise(torch::zeros({2, 81, 7, 7}), 10), std::invalid_argument);
  CHECK_THROWS_AS(group_normalise(torch::zeros({5}), 1), std::invalid_argument);
  CHECK_NOTHROW(group_normalise(torch::zeros({2, 81, 7, 7}), 27));
}
