// DP-FC: without noise it is covariance-preconditioned gradient descent on the
// one-vs-rest logistic loss, checked against an explicit per-example loop; the
// clipped gradient sum moves by <= c when an adversarial example is added; the
// mechanism list; it learns a Gaussian mixture.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/heads/dp_feature_covariance.hpp"
#include "dpsgd/heads/one_vs_rest_gradient.hpp"
#include "gaussian_mixture.hpp"

using namespace dpsgd;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

struct Reference {
  torch::Tensor weight;  ///< K x (D + 1), bias last
  std::int64_t clipped_gradients = 0;
};

// DP-FC by explicit loops: the covariance of clipped [x_i, 1], and for every step
// each example's gradient materialised as the outer product of the autograd-free
// derivative (sigmoid(z) - t) / K with [x_i, 1], clipped by its Frobenius norm.
Reference dp_fc_by_loop(const torch::Tensor& x, const torch::Tensor& y, std::int64_t k,
                        const heads::DpFcOptions& o) {
  const auto n = x.size(0);
  const auto xa = torch::cat({x, torch::ones({n, 1}, kF64)}, 1);
  const auto d = xa.size(1);
  auto cov = torch::zeros({d, d}, kF64);
  for (std::int64_t i = 0; i < n; ++i) {
    auto r = xa[i];
    const double norm = r.norm().item<double>();
    r = norm > o.clip_norm ? r * (o.clip_norm / norm) : r;
    cov += torch::outer(r, r);
  }
  const auto inverse = torch::inverse(cov + o.ridge * torch::eye(d, kF64));
  Reference ref{torch::zeros({k, d}, kF64)};
  for (std::int64_t t = 0; t < o.steps; ++t) {
    auto sum = torch::zeros({k, d}, kF64);
    for (std::int64_t i = 0; i < n; ++i) {
      auto target = torch::zeros({k}, kF64);
      target[y[i].item<std::int64_t>()] = 1.0;
      const auto z = ref.weight.matmul(xa[i]);
      auto g = torch::outer((torch::sigmoid(z) - target) / k, xa[i]);
      const double norm = g.norm().item<double>();
      if (norm > o.gradient_clip_norm) {
        g = g * (o.gradient_clip_norm / norm);
        ++ref.clipped_gradients;
      }
      sum += g;
    }
    ref.weight = ref.weight - o.lr * sum.matmul(inverse);  // inverse is symmetric
  }
  return ref;
}

}  // namespace

TEST_CASE("DP-FC without noise is preconditioned GD with per-example clipping", "[heads]") {
  torch::manual_seed(31);
  const std::int64_t n = 120, d = 5, k = 4;
  // Row norms spread from ~0 to ~10, so the gradient clip bites for some rows only.
  const auto x = torch::randn({n, d}, kF64) * torch::rand({n, 1}, kF64) * 4;
  const auto y = torch::randint(k, {n}, torch::kLong);
  heads::DpFcOptions opts;
  opts.clip_norm = 1.2;
  opts.steps = 4;
  opts.lr = 0.5;
  opts.ridge = 2.0;
  opts.gradient_clip_norm = 0.5;
  privacy::GaussianNoise noise(1, torch::kCPU);
  const auto head = heads::fit_dp_fc(x, y, k, opts, noise);
  const auto ref = dp_fc_by_loop(x, y, k, opts);
  // The clip threshold bites for some examples and not for others.
  REQUIRE(ref.clipped_gradients > 0);
  REQUIRE(ref.clipped_gradients < n * opts.steps);
  REQUIRE(torch::allclose(head.weight, ref.weight.narrow(1, 0, d), 1e-8, 1e-10));
  REQUIRE(torch::allclose(head.bias, ref.weight.select(1, d), 1e-8, 1e-10));
  REQUIRE(head.weight.abs().max().item<double>() > 1e-3);  // it moved
}

TEST_CASE("DP-FC: zero steps give the zero head, noise changes the head", "[heads]") {
  const auto data = test::gaussian_mixture(200, 6, 3, 2.0, 32);
  heads::DpFcOptions opts;
  opts.steps = 0;
  privacy::GaussianNoise noise(2, torch::kCPU);
  auto head = heads::fit_dp_fc(data.x, data.y, 3, opts, noise);
  REQUIRE(head.weight.abs().max().item<double>() == 0.0);
  opts.steps = 3;
  const auto exact = heads::fit_dp_fc(data.x, data.y, 3, opts, noise);
  opts.step_noise_multiplier = 1.0;
  opts.covariance_noise_multiplier = 1.0;
  head = heads::fit_dp_fc(data.x, data.y, 3, opts, noise);
  REQUIRE_FALSE(torch::allclose(head.weight, exact.weight));
  REQUIRE(torch::isfinite(head.weight).all().item<bool>());
}

TEST_CASE("an added adversarial example moves the clipped gradient sum by <= c", "[heads]") {
  torch::manual_seed(33);
  const std::int64_t n = 60, d = 7, k = 5;
  const double c = 0.3;
  const auto x = torch::randn({n, d}, kF64);
  const auto y = torch::randint(k, {n}, torch::kLong);
  // At W = 0 every residual is nonzero, so the huge example's gradient is clipped
  // to exactly c; at a random W it may saturate to 0, which the bound also allows.
  for (const auto& w : {torch::zeros({k, d}, kF64), torch::randn({k, d}, kF64)}) {
    const auto sum = heads::one_vs_rest_clipped_gradient_sum(w, x, y, c);
    for (std::int64_t cls = 0; cls < k; ++cls) {
      auto added = torch::randn({1, d}, kF64);
      added = added * (1e6 / added.norm().item<double>());
      const auto x2 = torch::cat({x, added});
      const auto y2 = torch::cat({y, torch::full({1}, cls, torch::kLong)});
      const auto diff = heads::one_vs_rest_clipped_gradient_sum(w, x2, y2, c) - sum;
      REQUIRE(diff.norm().item<double>() <= c * (1 + 1e-9));
      if (w.abs().max().item<double>() == 0.0) {
        REQUIRE(diff.norm().item<double>() == Approx(c).epsilon(1e-9));
      }
    }
  }
}

TEST_CASE("DP-FC mechanisms: the covariance once, then one per step", "[heads]") {
  heads::DpFcOptions opts;
  opts.covariance_noise_multiplier = 3.0;
  opts.step_noise_multiplier = 1.5;
  opts.steps = 10;
  const auto m = heads::dp_fc_mechanisms(opts);
  REQUIRE(m.size() == 2);
  REQUIRE(m[0].noise_multiplier == 3.0);
  REQUIRE(m[0].sample_rate == 1.0);
  REQUIRE(m[0].steps == 1);
  REQUIRE(m[1].noise_multiplier == 1.5);
  REQUIRE(m[1].sample_rate == 1.0);
  REQUIRE(m[1].steps == 10);
}

TEST_CASE("DP-FC learns a 10-class Gaussian mixture, heavy noise degrades it", "[heads]") {
  const auto train = test::gaussian_mixture(3000, 20, 10, 1.0, 41);
  torch::manual_seed(41);
  const auto means = torch::randn({10, 20}, kF64);  // the same means as train's
  const auto test = test::gaussian_mixture(2000, 20, 10, 1.0, 42, means);
  privacy::GaussianNoise noise(4, torch::kCPU);
  // Mehta et al.'s reported DP-FC settings: 10 full-batch steps, lr 0.2, lambda 100.
  heads::DpFcOptions opts;
  opts.clip_norm = 5.0;
  opts.gradient_clip_norm = 1.0;
  const double exact = test::accuracy(heads::fit_dp_fc(train.x, train.y, 10, opts, noise), test);
  opts.covariance_noise_multiplier = opts.step_noise_multiplier = 5.0;
  const double noisy = test::accuracy(heads::fit_dp_fc(train.x, train.y, 10, opts, noise), test);
  opts.covariance_noise_multiplier = opts.step_noise_multiplier = 500.0;
  const double heavy = test::accuracy(heads::fit_dp_fc(train.x, train.y, 10, opts, noise), test);
  std::printf("DP-FC 10-class mixture accuracy: sigma 0: %.3f, sigma 5: %.3f, sigma 500: %.3f\n",
              exact, noisy, heavy);
  REQUIRE(exact > 0.7);  // chance is 0.1
  REQUIRE(heavy < exact);
}
