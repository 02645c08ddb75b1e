#pragma once
// Per-example gradients of Conv2d (stride, padding, dilation, groups). With the
// input unfolded to U_i (G groups x d_g x T; d_g = C_in/G * kh * kw, T output
// positions) and the output gradient g_i (G x p_g x T), per group
//   grad_W,i[g] = g_i[g] U_i[g]^T   (p_g x d_g),   grad_b,i = sum_t g_i[:, t].
// Grouped and depthwise convolutions are computed group by group (batched), never
// as a dense C_out x C_in product with zero blocks.
// Ghost norm: the Gram form sum_g <U_i[g]^T U_i[g], g_i[g]^T g_i[g]> (T x T per
// example); materialising is the cheaper route when T^2 >= p_g d_g.
// The clipped sum uses the convolution's own weight-gradient kernel on the
// factor-scaled output gradient: sum_i c_i grad_W,i = dW(conv; x, c * g).
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class Conv2dRule final : public LayerRule {
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
  [[nodiscard]] std::vector<torch::Tensor> per_group_grads(models::TappedLayer& layer,
                                                           const torch::Tensor& a,
                                                           const torch::Tensor& g,
                                                           std::int64_t views) const override;
};

}  // namespace dpsgd::privacy
