#pragma once
// Per-example gradients of GroupNorm's per-channel affine y = a * w[c] + b[c],
// a = x_hat (B, C, *) the normalised input. Example i's loss depends on w only
// through its own outputs, so with S the spatial positions
//   grad_w,i[c] = sum_s g_i[c, s] a_i[c, s],   grad_b,i[c] = sum_s g_i[c, s].
// Norms: always the direct form. The per-example gradient has only C entries,
// fewer than the activation (C x S) it is reduced from, so materialising it costs
// one pass over (a, g); a Gram form would cost S^2 per channel instead.
// The clipped sum is sum_i f_i grad_i from the same (B, C) reductions.
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class ChannelAffineRule final : public LayerRule {
 public:
  [[nodiscard]] torch::Tensor input_grad(models::TappedLayer& layer, const torch::Tensor& a,
                                         const torch::Tensor& g) const override;
  [[nodiscard]] std::vector<torch::Tensor> per_example_grads(models::TappedLayer& layer,
                                                             const torch::Tensor& a,
                                                             const torch::Tensor& g) const override;
  [[nodiscard]] torch::Tensor per_example_sq_norms(models::TappedLayer& layer,
                                                   const torch::Tensor& a,
                                                   const torch::Tensor& g) const override;
  [[nodiscard]] bool materializing_is_cheaper(models::TappedLayer& layer, const torch::Tensor& a,
                                              const torch::Tensor& g) const override;
  [[nodiscard]] std::vector<torch::Tensor> weighted_grad_sum(
      models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g,
      const torch::Tensor& weights) const override;
};

}  // namespace dpsgd::privacy
