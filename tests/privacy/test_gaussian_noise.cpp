// The Gaussian noise source: the right standard deviation, reproducible by seed,
// independent per parameter tensor; the secure (OS CSPRNG) source.
#include <cmath>

#include <catch2/catch.hpp>

#include "dpsgd/privacy/gaussian_noise.hpp"
#include "dpsgd/util/secure_random.hpp"

using namespace dpsgd;

TEST_CASE("Gaussian noise: right standard deviation, reproducible by seed", "[noise]") {
  privacy::GaussianNoise a(42, torch::kCPU);
  privacy::GaussianNoise b(42, torch::kCPU);
  privacy::GaussianNoise c(43, torch::kCPU);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto na = a.sample({200000}, 0.35, opts);
  const auto nb = b.sample({200000}, 0.35, opts);
  const auto nc = c.sample({200000}, 0.35, opts);
  REQUIRE(torch::equal(na, nb));
  REQUIRE_FALSE(torch::equal(na, nc));
  // Sample std of 2e5 normals has relative standard error 1/sqrt(2n) ~ 0.0016;
  // the mean's standard error is 0.35/sqrt(n) ~ 0.00078. Bounds are ~5 standard errors.
  REQUIRE(na.std().item<double>() == Approx(0.35).epsilon(0.008));
  REQUIRE(std::abs(na.mean().item<double>()) < 0.004);

  // Noise is independent per parameter tensor: two same-shape tensors get different draws.
  std::vector<torch::Tensor> ts{torch::zeros({1000}, opts), torch::zeros({1000}, opts)};
  a.add_to(ts, 1.0);
  REQUIRE_FALSE(torch::equal(ts[0], ts[1]));
}

TEST_CASE("secure noise: right mean and variance, never repeats", "[noise][secure]") {
  const auto a = util::secure_standard_normal(200001);
  const auto b = util::secure_standard_normal(200001);
  REQUIRE(a.size(0) == 200001);
  REQUIRE_FALSE(torch::equal(a, b));
  REQUIRE(std::abs(a.mean().item<double>()) < 0.0112);            // ~5 standard errors
  REQUIRE(a.std().item<double>() == Approx(1.0).epsilon(0.008));  // ~5 standard errors
  REQUIRE(torch::isfinite(a).all().item<bool>());
  auto noise = privacy::GaussianNoise::secure();
  REQUIRE(noise.is_secure());
  const auto s = noise.sample({1000, 3}, 0.5, torch::TensorOptions().dtype(torch::kFloat32));
  REQUIRE(s.sizes() == torch::IntArrayRef({1000, 3}));
  REQUIRE(s.scalar_type() == torch::kFloat32);
  REQUIRE(s.std().item<double>() == Approx(0.5).epsilon(0.1));
}
