#pragma once
// Per-example gradients of Linear, y = a W^T + b, for a of shape (B, d) or
// (B, T..., d). For example i with rows a_i (T x d) and g_i (T x p):
//   grad_W,i = g_i^T a_i,  grad_b,i = sum_t g_i[t].
// Ghost norm: T = 1 gives ||g_i||^2 ||a_i||^2 exactly; for sequences the Gram form
// ||g_i^T a_i||_F^2 = <a_i a_i^T, g_i g_i^T> costs ~T^2 (p + d) per example and
// the gradient itself ~T p d, so materialising is cheaper when T^2 >= p d.
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class LinearRule final : public LayerRule {
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
