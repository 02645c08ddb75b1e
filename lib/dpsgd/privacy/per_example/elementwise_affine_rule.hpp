#pragma once
// Per-example gradients of LayerNorm's elementwise affine y = a * w + b, with w
// of shape S (the last dims) and a = x_hat (B, L..., S) the normalised input.
// Example i's loss depends on w only through its own outputs, so with t running
// over its L leading positions (1 when the input is (B, S))
//   grad_w,i = sum_t g_i[t] * a_i[t],   grad_b,i = sum_t g_i[t]   (elementwise, shape S).
// Norms: always the direct form. The per-example gradient has |S| entries, no
// more than the activation (L x |S|) it is reduced from, so materialising it
// costs one pass over (a, g); a Gram form would cost L^2 |S| instead.
// The clipped sum is sum_i f_i grad_i from the same (B, |S|) reductions.
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class ElementwiseAffineRule final : public LayerRule {
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
