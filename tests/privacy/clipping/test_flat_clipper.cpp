// Flat clipping (Abadi et al. 2016): min(1, C/||g_i||) bounds every per-example
// norm by C, keeps smaller gradients as they are, and never makes a NaN.
#include <catch2/catch.hpp>

#include "dpsgd/privacy/clipping/flat_clipper.hpp"

using namespace dpsgd;

TEST_CASE("Flat clipping bounds every per-example norm by C", "[clipping]") {
  torch::manual_seed(4);
  const auto sq = torch::rand({50, 3}, torch::kFloat64) * 10;
  privacy::FlatClipper clipper(0.7);
  const auto f = clipper.factors(sq);
  const auto before = sq.sum(1).sqrt();
  const auto after = (sq * f * f).sum(1).sqrt();
  REQUIRE((after <= 0.7 * (1 + 1e-12)).all().item<bool>());
  const auto large = before > 0.7;
  REQUIRE(large.any().item<bool>());
  REQUIRE(torch::allclose(after.masked_select(large),
                          torch::full({large.sum().item<std::int64_t>()}, 0.7, torch::kFloat64)));
  REQUIRE(torch::allclose(after.masked_select(~large), before.masked_select(~large)));
  // Zero gradients stay zero and never produce NaN.
  const auto zero_f = clipper.factors(torch::zeros({2, 3}, torch::kFloat64));
  REQUIRE(torch::isfinite(zero_f).all().item<bool>());
  REQUIRE_THROWS(privacy::FlatClipper(0.0));
  REQUIRE_THROWS(privacy::FlatClipper(-1.0));
}
