#pragma once
// Weight-standardised 2-D convolution (Qiao et al. 2019, "Micro-Batch Training
// with Batch-Channel Normalization and Weight Standardization"): the trainable
// weight W is a raw parameter, and the convolution uses, per output channel o
// (a row w_o of fan-in n = C_in/G * kh * kw values),
//   w_hat_o = (w_o - mean(w_o)) / sqrt(var(w_o) + eps)      (biased variance).
// De et al. 2022 pair it with GroupNorm in their private Wide-ResNets. The
// per-example gradient with respect to W is J_o^T (gradient w.r.t. w_hat_o),
// J_o the standardisation's Jacobian, shared by all examples (see
// privacy/per_example/ws_conv2d_rule.hpp).
#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

class WsConv2dImpl : public torch::nn::Module, public TappedLayer {
 public:
  explicit WsConv2dImpl(const Conv2dOptions& options, double eps = 1e-5);

  torch::Tensor forward(const torch::Tensor& input) { return tapped_forward(input); }
  torch::Tensor plain_forward(const torch::Tensor& input) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kWsConv2d; }
  std::vector<torch::Tensor> layer_parameters() override;
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] const Conv2dOptions& options() const { return options_; }
  [[nodiscard]] double eps() const { return eps_; }
  /// w_hat, the weight the convolution uses (differentiable in `weight`).
  [[nodiscard]] torch::Tensor standardized_weight() const;

  torch::Tensor weight;  ///< raw: out x in/groups x kh x kw
  torch::Tensor bias;    ///< out, or undefined

 private:
  Conv2dOptions options_;
  double eps_;
};
TORCH_MODULE(WsConv2d);

}  // namespace dpsgd::models
