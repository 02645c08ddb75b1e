#pragma once
// The basic block of both U-Nets: (3x3 conv -> GroupNorm -> ReLU) twice, with
// padding 1 so the spatial size is kept. GroupNorm rather than BatchNorm because
// its statistics are per example: BatchNorm would mix the examples of a batch,
// which breaks per-example gradients and the DP sensitivity bound. The
// convolutions carry no bias: the GroupNorm affine right after adds one.
//
// The separable block replaces each 3x3 convolution by a depthwise 3x3 (one
// filter per input channel) and a pointwise 1x1 (Chollet 2017, Xception): about
// in*9 + in*out weights instead of in*out*9. Fewer trainable parameters is the
// lever that matters most under DP: the noise norm grows as sqrt(d).
#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::models {

class ConvBlockImpl : public torch::nn::Module {
 public:
  ConvBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t norm_groups,
                BlockKind kind = BlockKind::kStandard);
  torch::Tensor forward(const torch::Tensor& input);

 private:
  Conv2d depthwise1_{nullptr};  // separable blocks only
  Conv2d conv1_{nullptr};
  GroupNorm norm1_{nullptr};
  Conv2d depthwise2_{nullptr};
  Conv2d conv2_{nullptr};
  GroupNorm norm2_{nullptr};
};
TORCH_MODULE(ConvBlock);

/// A 1x1 convolution with bias: the per-pixel classifier head of both U-Nets.
Conv2dOptions conv1x1(std::int64_t in_channels, std::int64_t out_channels);

/// `x` zero-padded (bottom/right) or cropped to the spatial size of `like`, so a
/// decoder feature map matches its skip connection when a size was odd.
torch::Tensor match_spatial(const torch::Tensor& x, const torch::Tensor& like);

}  // namespace dpsgd::models
