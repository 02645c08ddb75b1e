#pragma once
// 2-D transposed convolution ("deconvolution") with stride, padding,
// output_padding, dilation and groups: the adjoint (input gradient) of the
// Conv2d with the same weight and geometry, so it maps in_channels x H to
// out_channels x ((H - 1) s - 2 p + d (k - 1) + output_padding + 1).
#include <array>

#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

struct ConvTranspose2dOptions {
  std::int64_t in_channels = 1;
  std::int64_t out_channels = 1;
  std::array<std::int64_t, 2> kernel{3, 3};
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> output_padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
  std::int64_t groups = 1;
  bool bias = true;
};

class ConvTranspose2dImpl : public torch::nn::Module, public TappedLayer {
 public:
  explicit ConvTranspose2dImpl(const ConvTranspose2dOptions& options);

  torch::Tensor forward(const torch::Tensor& input) { return tapped_forward(input); }
  torch::Tensor plain_forward(const torch::Tensor& input) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kConvTranspose2d; }
  std::vector<torch::Tensor> layer_parameters() override;
  [[nodiscard]] std::string describe() const override;
  [[nodiscard]] const ConvTranspose2dOptions& options() const { return options_; }

  torch::Tensor weight;  ///< in x out/groups x kh x kw (PyTorch's layout)
  torch::Tensor bias;    ///< out, or undefined

 private:
  ConvTranspose2dOptions options_;
};
TORCH_MODULE(ConvTranspose2d);

}  // namespace dpsgd::models
