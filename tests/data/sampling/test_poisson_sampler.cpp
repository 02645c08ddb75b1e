// Statistical checks that PoissonSampler draws what the RDP accountant assumes:
// an independent Bernoulli(q) trial per example per batch. All bounds are at
// about 4 standard deviations with fixed seeds, so they pass deterministically
// for a correct sampler while a fixed-size, shuffled or biased one fails them.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/data/sampling/poisson_sampler.hpp"

using dpsgd::data::PoissonSampler;

namespace {

void check_valid_batch(const torch::Tensor& batch, std::int64_t n) {
  REQUIRE(batch.defined());
  CHECK(batch.scalar_type() == torch::kLong);
  CHECK(batch.device().is_cpu());
  CHECK(batch.dim() == 1);
  if (batch.numel() == 0) return;
  CHECK(batch.min().item<std::int64_t>() >= 0);
  CHECK(batch.max().item<std::int64_t>() < n);
  if (batch.numel() > 1) {
    // Strictly increasing: sorted and without repeats.
    CHECK((batch.slice(0, 1) > batch.slice(0, 0, -1)).all().item<bool>());
  }
}

}  // namespace

TEST_CASE("PoissonSampler rejects invalid parameters", "[data]") {
  CHECK_THROWS_AS(PoissonSampler(100, 0.0, 1), std::invalid_argument);
  CHECK_THROWS_AS(PoissonSampler(100, -0.1, 1), std::invalid_argument);
  CHECK_THROWS_AS(PoissonSampler(100, 1.0000001, 1), std::invalid_argument);
  CHECK_THROWS_AS(PoissonSampler(100, std::numeric_limits<double>::quiet_NaN(), 1),
                  std::invalid_argument);
  CHECK_THROWS_AS(PoissonSampler(0, 0.5, 1), std::invalid_argument);
  CHECK_THROWS_AS(PoissonSampler(-5, 0.5, 1), std::invalid_argument);
  CHECK_NOTHROW(PoissonSampler(1, 1.0, 1));
}

TEST_CASE("PoissonSampler accessors", "[data]") {
  PoissonSampler sampler(60000, 256.0 / 60000.0, 7);
  CHECK(sampler.dataset_size() == 60000);
  CHECK(sampler.sample_rate() == 256.0 / 60000.0);
  CHECK(sampler.expected_batch_size() == 256);
}

TEST_CASE("PoissonSampler batch sizes are Binomial(n, q): mean and variance", "[data]") {
  const std::int64_t n = 1000;
  const double q = 0.1;
  const int draws = 2000;
  PoissonSampler sampler(n, q, 12345);
  std::vector<double> sizes;
  for (int t = 0; t < draws; ++t) {
    const auto batch = sampler.next();
    if (t < 20) check_valid_batch(batch, n);
    sizes.push_back(static_cast<double>(batch.numel()));
  }
  double sum = 0.0;
  for (double s : sizes) sum += s;
  const double mean = sum / draws;
  double ss = 0.0;
  for (double s : sizes) ss += (s - mean) * (s - mean);
  const double variance = ss / (draws - 1);

  const double var_one = n * q * (1 - q);  // 90
  // The mean of `draws` Binomial(n, q) sizes has std sqrt(var_one / draws).
  INFO("mean batch size " << mean << ", variance " << variance);
  CHECK(std::abs(mean - n * q) < 4.0 * std::sqrt(var_one / draws));
  // The variance is what separates Poisson sampling from a fixed batch of qn
  // (variance 0); the sample variance has std about var * sqrt(2 / (draws - 1)).
  CHECK(std::abs(variance - var_one) < 4.0 * var_one * std::sqrt(2.0 / (draws - 1)));
}

TEST_CASE("PoissonSampler includes every example with probability q", "[data]") {
  const std::int64_t n = 200;
  const double q = 0.05;
  const int draws = 4000;
  PoissonSampler sampler(n, q, 2024);
  auto counts = torch::zeros({n}, torch::kLong);
  for (int t = 0; t < draws; ++t) {
    const auto batch = sampler.next();
    counts.index_add_(0, batch, torch::ones({batch.numel()}, torch::kLong));
  }
  // Each count is Binomial(draws, q), independent across examples, so
  // sum (c - mean)^2 / var is approximately chi-square with n degrees of
  // freedom: mean n, std sqrt(2n) = 20. Too large means some examples are
  // favoured; too small means inclusion is more even than chance allows
  // (e.g. shuffled fixed-size batches that cycle through the data).
  const double mean = draws * q;           // 200
  const double var = draws * q * (1 - q);  // 190
  const auto c = counts.to(torch::kFloat64);
  const double chi2 = ((c - mean).pow(2) / var).sum().item<double>();
  const double max_z = ((c - mean).abs() / std::sqrt(var)).max().item<double>();
  INFO("chi-square " << chi2 << " (df " << n << "), max |z| " << max_z);
  CHECK(std::abs(chi2 - n) < 4.0 * std::sqrt(2.0 * n));
  // With 200 examples, P(any |z| > 4.5) is about 200 * 6.8e-6 ≈ 0.0014.
  CHECK(max_z < 4.5);
}

TEST_CASE("PoissonSampler is reproducible from its seed and only its seed", "[data]") {
  const std::int64_t n = 500;
  const double q = 0.03;
  PoissonSampler a(n, q, 99);
  // The global generator is reseeded and consumed between the two samplers'
  // draws: a sampler that used it would not reproduce.
  torch::manual_seed(1);
  std::vector<torch::Tensor> first;
  for (int t = 0; t < 10; ++t) {
    first.push_back(a.next());
    (void)torch::rand({17});
  }
  torch::manual_seed(2);
  PoissonSampler b(n, q, 99);
  PoissonSampler c(n, q, 100);
  bool any_differs = false;
  for (int t = 0; t < 10; ++t) {
    const auto from_b = b.next();
    const auto from_c = c.next();
    CHECK(from_b.equal(first[static_cast<std::size_t>(t)]));
    if (!from_c.sizes().equals(from_b.sizes()) || !from_c.equal(from_b)) any_differs = true;
  }
  CHECK(any_differs);
  // Successive batches of one sampler differ too (fresh trials every call).
  CHECK_FALSE(first[0].equal(first[1]));
}

TEST_CASE("PoissonSampler with q = 1 returns every example", "[data]") {
  PoissonSampler sampler(37, 1.0, 5);
  CHECK(sampler.expected_batch_size() == 37);
  for (int t = 0; t < 3; ++t) {
    CHECK(sampler.next().equal(torch::arange(37, torch::kLong)));
  }
}

TEST_CASE("PoissonSampler may return an empty batch, and does not hide it", "[data]") {
  // n = 10, q = 0.01: P(empty) = 0.99^10 ≈ 0.90 per draw.
  PoissonSampler sampler(10, 0.01, 3);
  int empty = 0;
  int nonempty = 0;
  for (int t = 0; t < 200; ++t) {
    const auto batch = sampler.next();
    check_valid_batch(batch, 10);
    (batch.numel() == 0 ? empty : nonempty) += 1;
  }
  CHECK(empty > 150);
  CHECK(nonempty > 0);
}
