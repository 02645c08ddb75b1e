#pragma once
// Per-example gradients of the weight-standardised convolution
// (models/layers/ws_conv2d.hpp). The convolution applies w_hat = s(W), so an
// example's gradient w.r.t. the raw weight is the chain rule through s, which
// is one fixed map for the whole batch (it depends on W only). Per output
// channel o, with n the fan-in, sigma_o = sqrt(var(w_o) + eps) and w_hat_o the
// standardised row (mean 0), the Jacobian is symmetric:
//   J_o = (I - 1 1^T / n - w_hat_o w_hat_o^T / n) / sigma_o,
// so for the gradient G_o w.r.t. w_hat_o (a Conv2d's, conv2d_rule.hpp)
//   dL/dw_o = J_o G_o = (G_o - mean(G_o) - w_hat_o mean(w_hat_o * G_o)) / sigma_o.
// Ghost norm (computed in a cancellation-free order, see the .cpp): 1/sqrt(n)
// and w_hat_o / |w_hat_o| are orthonormal (w_hat_o has
// mean 0), and with c = |w_hat_o|^2 / n,  J_o^2 sigma_o^2 = I - e1 e1^T - (2c - c^2) e2 e2^T:
//   |J_o G_o|^2 = ( |G_o|^2 - (1.G_o)^2 / n - (w_hat_o.G_o)^2 (2/n - |w_hat_o|^2/n^2) ) /
//   sigma_o^2,
// where per example and channel |G_o|^2 = g_o^T (U U^T) g_o (the Gram form per
// output channel), 1.G_o = sum_t g_o[t] (patch sum at t) and
// w_hat_o.G_o = sum_t g_o[t] y_o[t] with y = conv(a; w_hat) without bias.
// The clipped sum is linear: sum_i c_i J G_i = J (sum_i c_i G_i).
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class WsConv2dRule final : public LayerRule {
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
