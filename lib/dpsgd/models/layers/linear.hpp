#pragma once
// Fully connected layer y = x W^T + b on the last dimension (2-D or sequence input).
#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

class LinearImpl : public torch::nn::Module, public TappedLayer {
 public:
  LinearImpl(std::int64_t in_features, std::int64_t out_features, bool with_bias = true);

  torch::Tensor forward(const torch::Tensor& input) { return tapped_forward(input); }
  torch::Tensor plain_forward(const torch::Tensor& input) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kLinear; }
  std::vector<torch::Tensor> layer_parameters() override;
  [[nodiscard]] std::string describe() const override;

  torch::Tensor weight;  ///< out x in
  torch::Tensor bias;    ///< out, or undefined
};
TORCH_MODULE(Linear);

}  // namespace dpsgd::models
