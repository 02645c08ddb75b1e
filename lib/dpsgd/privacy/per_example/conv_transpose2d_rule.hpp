#pragma once
// Per-example gradients of ConvTranspose2d. A transposed convolution is the
// adjoint of the Conv2d with the same weight W (C_in x C_out/G x kh x kw) and
// geometry, mapping the C_out-channel map back to C_in channels: y = conv^T(a; W)
// with conv(z; W)[ci, h] = sum_{co, k} W[ci, co, k] z[co, h s - p + k d].
// Hence y[co, m] collects W[ci, co, k] a[ci, h] for every (h, k) with
// m = h s - p + k d, and
//   dL/dW[ci, co, k] = sum_h a[ci, h] g[co, h s - p + k d],
// i.e. the output gradient g_i unfolded with the forward conv's geometry (one
// column per INPUT position h; output_padding only adds rows no column reaches)
// against the input: with U_i (G x d_g x T; d_g = C_out/G kh kw, T = H_in W_in)
// and a_i (G x p_g x T; p_g = C_in/G), per group
//   grad_W,i[g] = a_i[g] U_i[g]^T   (p_g x d_g),   grad_b,i = sum of g_i over positions.
// Ghost norm: the Gram form sum_g <a_i[g]^T a_i[g], U_i[g]^T U_i[g]> (T x T per
// example, T = H_in W_in input positions); materialising is the cheaper route
// when T^2 >= p_g d_g.
// Input gradient and clipped sum use the transposed convolution's own backward
// kernels (at::convolution_backward, transposed); the clipped sum on the
// factor-scaled output gradient: sum_i c_i grad_W,i = dW(conv^T; a, c * g).
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class ConvTranspose2dRule final : public LayerRule {
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
