#include "dpsgd/heads/one_vs_rest_gradient.hpp"

namespace dpsgd::heads {

torch::Tensor one_vs_rest_clipped_gradient_sum(const torch::Tensor& weight,
                                               const torch::Tensor& features,
                                               const torch::Tensor& labels, double clip_norm) {
  const auto k = weight.size(0);
  const auto targets = torch::one_hot(labels.to(torch::kLong), k).to(features.options());
  const auto residual = (torch::sigmoid(features.matmul(weight.t())) - targets) / k;  // N x K
  // ||r_i x_i^T||_F = ||r_i|| ||x_i||; a zero gradient gives c / 0 = inf, clamped to 1.
  const auto norms = torch::linalg_vector_norm(residual, 2, {1}, true) *
                     torch::linalg_vector_norm(features, 2, {1}, true);
  const auto scale = (clip_norm / norms).clamp_max(1.0);
  return (residual * scale).t().matmul(features);
}

}  // namespace dpsgd::heads
