#pragma once
// Test data for the private heads: a K-component Gaussian mixture in D dimensions
// (class means drawn at scale `separation`, unit-variance noise), float64, and
// the accuracy of a head on it. Data come from torch's global generator, seeded
// here; the heads' privacy noise never does.
#include <cstdint>

#include <torch/torch.h>

#include "dpsgd/heads/linear_head.hpp"

namespace dpsgd::test {

struct Mixture {
  torch::Tensor x;  ///< N x D float64
  torch::Tensor y;  ///< N int64
};

inline Mixture gaussian_mixture(std::int64_t n, std::int64_t d, std::int64_t k, double separation,
                                std::uint64_t seed, const torch::Tensor& means = {}) {
  torch::manual_seed(seed);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto mu = means.defined() ? means : torch::randn({k, d}, opts) * separation;
  const auto y = torch::randint(k, {n}, torch::kLong);
  const auto x = mu.index_select(0, y) + torch::randn({n, d}, opts);
  return {x, y};
}

inline double accuracy(const heads::LinearHead& head, const Mixture& data) {
  const auto predicted = heads::logits(head, data.x).argmax(1);
  return predicted.eq(data.y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace dpsgd::test
