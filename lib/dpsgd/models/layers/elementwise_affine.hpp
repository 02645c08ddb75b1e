#pragma once
// Elementwise affine y = x * weight + bias over the last dimensions of the input
// (weight and bias have shape `shape`, broadcast over the leading ones): the
// trainable half of LayerNorm. It is a layer of its own so that the privacy
// layer's tap sees its input, the normalised activation x_hat, which is what the
// per-example gradient of weight is made of.
#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

class ElementwiseAffineImpl : public torch::nn::Module, public TappedLayer {
 public:
  /// weight = 1, bias = 0: the identity, PyTorch's initialisation of LayerNorm.
  explicit ElementwiseAffineImpl(const std::vector<std::int64_t>& shape, bool with_bias = true);

  torch::Tensor forward(const torch::Tensor& input) { return tapped_forward(input); }
  torch::Tensor plain_forward(const torch::Tensor& input) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kElementwiseAffine; }
  std::vector<torch::Tensor> layer_parameters() override;
  [[nodiscard]] std::string describe() const override;

  torch::Tensor weight;  ///< shape
  torch::Tensor bias;    ///< shape, or undefined
};
TORCH_MODULE(ElementwiseAffine);

}  // namespace dpsgd::models
