// DP-LS: without noise it is the ridge solution (plain and class-weighted),
// checked against least squares on an explicitly built augmented system; the head
// loads into torch::nn::Linear; the mechanism list; it learns a Gaussian mixture.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/heads/dp_least_squares.hpp"
#include "gaussian_mixture.hpp"

using namespace dpsgd;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// [x_i, 1] clipped to C by an explicit loop, independent of heads::clip_rows.
torch::Tensor clipped_rows_by_loop(const torch::Tensor& x, double c, bool bias) {
  std::vector<torch::Tensor> rows;
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    auto r = bias ? torch::cat({x[i], torch::ones({1}, kF64)}) : x[i].clone();
    const double norm = std::sqrt(r.pow(2).sum().item<double>());
    rows.push_back(norm > c ? r * (c / norm) : r);
  }
  return torch::stack(rows);
}

// argmin ||A W - T||^2 with the ridge rows sqrt(lambda) I stacked under A, by lstsq.
torch::Tensor ridge_by_lstsq(const torch::Tensor& a, const torch::Tensor& t, double lambda) {
  const auto d = a.size(1);
  const auto big_a = torch::cat({a, std::sqrt(lambda) * torch::eye(d, kF64)});
  const auto big_t = torch::cat({t, torch::zeros({d, t.size(1)}, kF64)});
  return std::get<0>(torch::linalg_lstsq(big_a, big_t, {}, "gelsd"));  // D x K
}

// Mehta et al.'s class-weighted objective for class k as a stacked least squares:
// positives with target 1 (weight 1), every example with target 0 (weight alpha).
torch::Tensor class_weighted_by_lstsq(const torch::Tensor& xc, const torch::Tensor& y,
                                      std::int64_t k, double alpha, double lambda) {
  std::vector<torch::Tensor> columns;
  for (std::int64_t cls = 0; cls < k; ++cls) {
    const auto pos = xc.index({y == cls});
    const auto a = torch::cat({pos, std::sqrt(alpha) * xc});
    const auto t =
        torch::cat({torch::ones({pos.size(0), 1}, kF64), torch::zeros({xc.size(0), 1}, kF64)});
    columns.push_back(ridge_by_lstsq(a, t, lambda));
  }
  return torch::cat(columns, 1);  // D x K
}

heads::LinearHead split(const torch::Tensor& w_dk, bool bias) {
  const auto w = w_dk.t();
  if (!bias) {
    return {w, torch::zeros({w.size(0)}, kF64)};
  }
  const auto d = w.size(1) - 1;
  return {w.narrow(1, 0, d), w.select(1, d)};
}

void require_heads_close(const heads::LinearHead& a, const heads::LinearHead& b) {
  REQUIRE(torch::allclose(a.weight, b.weight, 1e-7, 1e-9));
  REQUIRE(torch::allclose(a.bias, b.bias, 1e-7, 1e-9));
}

}  // namespace

TEST_CASE("DP-LS without noise is the ridge least-squares solution", "[heads]") {
  torch::manual_seed(11);
  const std::int64_t n = 200, d = 6, k = 4;
  const auto x = torch::randn({n, d}, kF64) + 0.5;
  const auto y = torch::randint(k, {n}, torch::kLong);
  privacy::GaussianNoise noise(1, torch::kCPU);
  heads::DpLsOptions opts{/*clip_norm=*/1.5, /*ridge=*/0.3, 0.0, 0.0,
                          std::nullopt,      true};
  const auto onehot = torch::one_hot(y, k).to(torch::kFloat64);

  for (const bool bias : {true, false}) {
    opts.fit_bias = bias;
    const auto xc = clipped_rows_by_loop(x, opts.clip_norm, bias);
    const auto head = heads::fit_dp_ls(x, y, k, opts, noise);
    REQUIRE(head.weight.sizes().vec() == std::vector<std::int64_t>{k, d});
    REQUIRE(head.bias.sizes().vec() == std::vector<std::int64_t>{k});
    require_heads_close(head, split(ridge_by_lstsq(xc, onehot, opts.ridge), bias));
  }
}

TEST_CASE("DP-LS class-weighted without noise solves Mehta et al.'s weighted objective",
          "[heads]") {
  torch::manual_seed(12);
  const std::int64_t n = 150, d = 5, k = 3;
  const auto x = torch::randn({n, d}, kF64) * 2;
  const auto y = torch::randint(k, {n}, torch::kLong);
  privacy::GaussianNoise noise(2, torch::kCPU);
  const heads::DpLsOptions opts{2.0, 0.05, 0.0, 0.0, /*alpha=*/2.0, true};
  const auto xc = clipped_rows_by_loop(x, opts.clip_norm, true);
  const auto head = heads::fit_dp_ls(x, y, k, opts, noise);
  require_heads_close(head, split(class_weighted_by_lstsq(xc, y, k, 2.0, 0.05), true));
}

TEST_CASE("DP-LS: noise is drawn from the given source and changes the head", "[heads]") {
  const auto data = test::gaussian_mixture(300, 8, 5, 2.0, 13);
  const heads::DpLsOptions opts{1.0, 1.0, 2.0, 3.0, 2.0, true};
  privacy::GaussianNoise a(5, torch::kCPU), b(5, torch::kCPU), c(6, torch::kCPU);
  // The global generator is reseeded differently between the fits: equal heads
  // show the noise comes from the given source alone.
  torch::manual_seed(1);
  const auto ha = heads::fit_dp_ls(data.x, data.y, 5, opts, a);
  torch::manual_seed(2);
  const auto hb = heads::fit_dp_ls(data.x, data.y, 5, opts, b);
  const auto hc = heads::fit_dp_ls(data.x, data.y, 5, opts, c);
  REQUIRE(torch::equal(ha.weight, hb.weight));
  REQUIRE_FALSE(torch::allclose(ha.weight, hc.weight));
  REQUIRE(torch::isfinite(ha.weight).all().item<bool>());
  // A class with no example still gets its noisy statistics and a finite row.
  const auto hd = heads::fit_dp_ls(data.x, data.y, 6, opts, c);
  REQUIRE(hd.weight.size(0) == 6);
  REQUIRE(torch::isfinite(hd.weight).all().item<bool>());
  REQUIRE(hd.weight[5].abs().max().item<double>() > 0.0);
}

TEST_CASE("DP-LS mechanisms: one full-batch Gaussian mechanism per released statistic", "[heads]") {
  heads::DpLsOptions opts{1.0, 1.0, 4.0, 2.5, std::nullopt, true};
  auto m = heads::dp_ls_mechanisms(opts);
  REQUIRE(m.size() == 2);
  REQUIRE(m[0].noise_multiplier == 4.0);
  REQUIRE(m[1].noise_multiplier == 2.5);
  opts.class_weight_alpha = 2.0;
  m = heads::dp_ls_mechanisms(opts);
  REQUIRE(m.size() == 3);  // G, the class Grams, the class sums
  REQUIRE(m[0].noise_multiplier == 4.0);
  REQUIRE(m[1].noise_multiplier == 4.0);
  REQUIRE(m[2].noise_multiplier == 2.5);
  for (const auto& s : m) {
    REQUIRE(s.sample_rate == 1.0);
    REQUIRE(s.steps == 1);
  }
}

TEST_CASE("the head's logits are those of torch::nn::Linear with its weights", "[heads]") {
  const auto data = test::gaussian_mixture(50, 7, 3, 2.0, 14);
  privacy::GaussianNoise noise(3, torch::kCPU);
  const auto x32 = data.x.to(torch::kFloat32);
  const auto head = heads::fit_dp_ls(x32, data.y, 3, {1.0, 0.1, 0, 0, std::nullopt, true}, noise);
  REQUIRE(head.weight.scalar_type() == torch::kFloat32);
  torch::nn::Linear linear(7, 3);
  {
    torch::NoGradGuard no_grad;
    linear->weight.copy_(head.weight);
    linear->bias.copy_(head.bias);
  }
  REQUIRE(torch::allclose(linear(x32), heads::logits(head, x32), 1e-5, 1e-6));
}

TEST_CASE("DP-LS learns a 10-class Gaussian mixture, heavy noise degrades it", "[heads]") {
  const auto train = test::gaussian_mixture(3000, 20, 10, 1.0, 21);
  torch::manual_seed(21);
  const auto means = torch::randn({10, 20}, kF64) * 1.0;  // the same means as train's
  const auto test = test::gaussian_mixture(2000, 20, 10, 1.0, 22, means);
  privacy::GaussianNoise noise(4, torch::kCPU);
  heads::DpLsOptions opts{/*clip_norm=*/5.0,
                          /*ridge=*/1e-3,    0.0, 0.0,
                          /*alpha=*/2.0,     true};
  const double exact = test::accuracy(heads::fit_dp_ls(train.x, train.y, 10, opts, noise), test);
  opts.gram_noise_multiplier = opts.sums_noise_multiplier = 5.0;
  opts.ridge = 100.0;
  const double noisy = test::accuracy(heads::fit_dp_ls(train.x, train.y, 10, opts, noise), test);
  opts.gram_noise_multiplier = opts.sums_noise_multiplier = 500.0;
  const double heavy = test::accuracy(heads::fit_dp_ls(train.x, train.y, 10, opts, noise), test);
  std::printf("DP-LS 10-class mixture accuracy: sigma 0: %.3f, sigma 5: %.3f, sigma 500: %.3f\n",
              exact, noisy, heavy);
  REQUIRE(exact > 0.7);  // chance is 0.1
  REQUIRE(heavy < exact);
}
