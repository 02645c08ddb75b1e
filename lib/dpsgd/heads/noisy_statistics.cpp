#include "dpsgd/heads/noisy_statistics.hpp"

#include <stdexcept>

namespace dpsgd::heads {

torch::Tensor clip_rows(const torch::Tensor& x, double clip_norm) {
  if (!(clip_norm > 0.0)) {
    throw std::invalid_argument("clip_rows: clip_norm must be > 0");
  }
  const auto norms = torch::linalg_vector_norm(x, 2, {1}, /*keepdim=*/true);
  // min(1, C / ||x||); a zero row gives C / 0 = inf, clamped to 1.
  const auto scale = (clip_norm / norms).clamp_max(1.0);
  return x * scale;
}

torch::Tensor noisy_gram(const torch::Tensor& clipped, double std, privacy::GaussianNoise& noise) {
  auto gram = clipped.t().matmul(clipped);
  if (std == 0.0) {
    return gram;
  }
  const auto d = gram.size(0);
  // One draw per released coordinate (a <= b), mirrored, so the noise on the
  // upper triangle is exactly N(0, std^2) i.i.d. as the sensitivity bound assumes.
  const auto upper = noise.sample({d, d}, std, gram.options()).triu();
  return gram + upper + upper.triu(1).t();
}

torch::Tensor noisy_class_sums(const torch::Tensor& clipped, const torch::Tensor& labels,
                               std::int64_t num_classes, double std,
                               privacy::GaussianNoise& noise) {
  const auto one_hot =
      torch::one_hot(labels.to(torch::kLong), num_classes).to(clipped.options());  // N x K
  auto sums = clipped.t().matmul(one_hot);                                         // D x K
  if (std == 0.0) {
    return sums;
  }
  return sums + noise.sample(sums.sizes(), std, sums.options());
}

torch::Tensor project_psd(const torch::Tensor& s) {
  const auto sym = (s + s.t()) / 2;
  auto [eigenvalues, eigenvectors] = torch::linalg_eigh(sym);
  return eigenvectors.matmul(torch::diag(eigenvalues.clamp_min(0.0))).matmul(eigenvectors.t());
}

}  // namespace dpsgd::heads
