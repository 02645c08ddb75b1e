#pragma once
// 2-D convolution with stride, padding, dilation and groups (depthwise included).
#include <array>

#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

struct Conv2dOptions {
  std::int64_t in_channels = 1;
  std::int64_t out_channels = 1;
  std::array<std::int64_t, 2> kernel{3, 3};
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
  bool bias = true;
};

class Conv2dImpl : public torch::nn::Module, public TappedLayer {
 public:
  explicit Conv2dImpl(const Conv2dOptions& options);

  torch::Tensor forward(const torch::Tensor& input) { return tapped_forward(input); }
  torch::Tensor plain_forward(const torch::Tensor& input) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kConv2d; }
  std::vector<torch::Tensor> layer_parameters() override;
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] const Conv2dOptions& options() const { return options_; }

  torch::Tensor weight;  ///< out x in/groups x kh x kw
  torch::Tensor bias;    ///< out, or undefined

 private:
  Conv2dOptions options_;
};
TORCH_MODULE(Conv2d);

}  // namespace dpsgd::models
