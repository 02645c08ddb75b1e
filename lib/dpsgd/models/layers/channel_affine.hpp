#pragma once
// Per-channel affine y[:, c, ...] = x[:, c, ...] * weight[c] + bias[c] on input
// (B, C, *): the trainable half of GroupNorm. It is a layer of its own so that
// the privacy layer's tap sees its input, the normalised activation x_hat, which
// is what the per-example gradient of weight is made of.
#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

class ChannelAffineImpl : public torch::nn::Module, public TappedLayer {
 public:
  /// weight = 1, bias = 0: the identity, PyTorch's initialisation of GroupNorm.
  explicit ChannelAffineImpl(std::int64_t num_channels);

  torch::Tensor forward(const torch::Tensor& input) { return tapped_forward(input); }
  torch::Tensor plain_forward(const torch::Tensor& input) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kChannelAffine; }
  std::vector<torch::Tensor> layer_parameters() override;
  [[nodiscard]] std::string describe() const override;

  torch::Tensor weight;  ///< C
  torch::Tensor bias;    ///< C
};
TORCH_MODULE(ChannelAffine);

/// `per_channel` (C) viewed as (C, 1, ..., 1) so that it broadcasts over dim 1 of
/// a tensor with `dims` dimensions (batch first).
torch::Tensor channel_view(const torch::Tensor& per_channel, std::int64_t dims);

}  // namespace dpsgd::models
