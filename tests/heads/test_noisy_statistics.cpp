// The noisy sufficient statistics of the private heads: row clipping, the Gram
// and class-sum mechanisms (exact values, symmetric noise of the stated std, the
// sensitivity bounds C^2 and C on adversarial added examples), PSD projection.
#include <cmath>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/heads/noisy_statistics.hpp"

using namespace dpsgd;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// A row of norm `norm` in a random direction.
torch::Tensor row_of_norm(std::int64_t d, double norm) {
  const auto r = torch::randn({1, d}, kF64);
  return r * (norm / r.norm().item<double>());
}

}  // namespace

TEST_CASE("clip_rows scales long rows to C and leaves short rows unchanged", "[heads]") {
  torch::manual_seed(1);
  const auto x = torch::cat({row_of_norm(5, 3.0), row_of_norm(5, 0.5), torch::zeros({1, 5}, kF64)});
  const auto c = heads::clip_rows(x, 1.25);
  REQUIRE(c[0].norm().item<double>() == Approx(1.25).epsilon(1e-12));
  REQUIRE(torch::allclose(c[0], x[0] * (1.25 / 3.0), 0.0, 1e-14));  // same direction
  REQUIRE(torch::equal(c[1], x[1]));
  REQUIRE(torch::equal(c[2], x[2]));
}

TEST_CASE("noisy_gram: exact without noise, symmetric noise of the stated std", "[heads]") {
  torch::manual_seed(2);
  const auto x = torch::randn({40, 6}, kF64);
  privacy::GaussianNoise noise(7, torch::kCPU);
  REQUIRE(torch::allclose(heads::noisy_gram(x, 0.0, noise), x.t().matmul(x), 0.0, 1e-12));

  const std::int64_t d = 300;
  const double std = 0.7;
  const auto big = torch::randn({10, d}, kF64);
  const auto e = heads::noisy_gram(big, std, noise) - big.t().matmul(big);
  REQUIRE(torch::allclose(e, e.t(), 0.0, 1e-12));
  // The released coordinates: the upper triangle with the diagonal, d(d+1)/2 =
  // 45150 i.i.d. draws; the sample std's relative standard error is ~0.33%.
  const auto iu = torch::triu_indices(d, d, 0, torch::kLong);
  const auto upper = e.index({iu[0], iu[1]});
  REQUIRE(upper.numel() == d * (d + 1) / 2);
  REQUIRE(upper.std().item<double>() == Approx(std).epsilon(0.02));
  REQUIRE(std::abs(upper.mean().item<double>()) < 5 * std / std::sqrt(upper.numel()));
  // The diagonal has the same std as the off-diagonal (not 2x, as X + X^T would give).
  REQUIRE(e.diagonal().std().item<double>() == Approx(std).epsilon(0.15));
}

TEST_CASE("noisy_class_sums: exact column sums, noise of the stated std", "[heads]") {
  torch::manual_seed(3);
  const auto x = torch::randn({30, 4}, kF64);
  const auto y = torch::randint(3, {30}, torch::kLong);
  privacy::GaussianNoise noise(8, torch::kCPU);
  const auto sums = heads::noisy_class_sums(x, y, 3, 0.0, noise);
  REQUIRE(sums.sizes().vec() == std::vector<std::int64_t>{4, 3});
  auto expected = torch::zeros({4, 3}, kF64);
  for (std::int64_t i = 0; i < 30; ++i) {
    expected.select(1, y[i].item<std::int64_t>()).add_(x[i]);
  }
  REQUIRE(torch::allclose(sums, expected, 0.0, 1e-12));

  const auto big_x = torch::randn({20, 400}, kF64);
  const auto big_y = torch::randint(100, {20}, torch::kLong);
  const auto e = heads::noisy_class_sums(big_x, big_y, 100, 1.3, noise) -
                 heads::noisy_class_sums(big_x, big_y, 100, 0.0, noise);
  REQUIRE(e.std().item<double>() == Approx(1.3).epsilon(0.02));  // 40000 draws
}

TEST_CASE("an added adversarial example moves the Gram by <= C^2 and the sums by <= C", "[heads]") {
  torch::manual_seed(4);
  const double c = 0.8;
  const std::int64_t k = 4;
  const auto x = torch::randn({50, 8}, kF64) * 3;
  const auto y = torch::randint(k, {50}, torch::kLong);
  privacy::GaussianNoise noise(9, torch::kCPU);
  const auto xc = heads::clip_rows(x, c);
  const auto gram = heads::noisy_gram(xc, 0.0, noise);
  const auto sums = heads::noisy_class_sums(xc, y, k, 0.0, noise);
  for (std::int64_t cls = 0; cls < k; ++cls) {
    const auto added = row_of_norm(8, 1e6);
    const auto xc2 = heads::clip_rows(torch::cat({x, added}), c);
    const auto y2 = torch::cat({y, torch::full({1}, cls, torch::kLong)});
    const auto dgram = (heads::noisy_gram(xc2, 0.0, noise) - gram).triu();
    const auto dsums = heads::noisy_class_sums(xc2, y2, k, 0.0, noise) - sums;
    REQUIRE(dgram.norm().item<double>() <= c * c * (1 + 1e-9));
    REQUIRE(dgram.norm().item<double>() > 0.5 * c * c);  // the bound is nearly attained
    REQUIRE(dsums.norm().item<double>() == Approx(c).epsilon(1e-9));
    // Only the added example's class column moves.
    REQUIRE(dsums.select(1, cls).norm().item<double>() == Approx(c).epsilon(1e-9));
  }
}

TEST_CASE("project_psd clamps negative eigenvalues and keeps PSD input", "[heads]") {
  torch::manual_seed(5);
  const auto a = torch::randn({12, 12}, kF64);
  const auto sym = (a + a.t()) / 2;
  REQUIRE(torch::linalg_eigvalsh(sym).min().item<double>() < 0);
  const auto p = heads::project_psd(sym);
  REQUIRE(torch::linalg_eigvalsh(p).min().item<double>() > -1e-10);
  REQUIRE(torch::allclose(p, p.t(), 0.0, 1e-12));
  // Eigenvalues that were non-negative survive: the projection is the nearest PSD matrix.
  const auto kept = torch::linalg_eigvalsh(sym).clamp_min(0);
  REQUIRE(torch::allclose(torch::linalg_eigvalsh(p), kept, 0.0, 1e-10));

  const auto psd = a.matmul(a.t());
  REQUIRE(torch::allclose(heads::project_psd(psd), psd, 0.0, 1e-9));
}
