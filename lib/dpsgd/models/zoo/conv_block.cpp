#include "dpsgd/models/zoo/conv_block.hpp"

#include <stdexcept>
#include <string>

namespace dpsgd::models {
namespace {

Conv2dOptions conv3x3(std::int64_t in, std::int64_t out) {
  Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel = {3, 3};
  o.padding = {1, 1};
  o.bias = false;
  return o;
}

// One filter per channel (groups = channels), no bias: the pointwise convolution
// after it mixes the channels.
Conv2dOptions depthwise3x3(std::int64_t channels) {
  auto o = conv3x3(channels, channels);
  o.groups = channels;
  return o;
}

Conv2dOptions pointwise(std::int64_t in, std::int64_t out) {
  auto o = conv1x1(in, out);
  o.bias = false;
  return o;
}

GroupNormOptions norm(std::int64_t channels, std::int64_t groups) {
  if (groups <= 0 || channels % groups != 0) {
    throw std::invalid_argument("model.norm_groups: " + std::to_string(groups) +
                                " does not divide a block's " + std::to_string(channels) +
                                " channels; choose a divisor of model.base_filters");
  }
  GroupNormOptions o;
  o.num_groups = groups;
  o.num_channels = channels;
  return o;
}

}  // namespace

ConvBlockImpl::ConvBlockImpl(std::int64_t in_channels, std::int64_t out_channels,
                             std::int64_t norm_groups, BlockKind kind) {
  if (kind == BlockKind::kSeparable) {
    depthwise1_ = register_module("depthwise1", Conv2d(depthwise3x3(in_channels)));
    conv1_ = register_module("conv1", Conv2d(pointwise(in_channels, out_channels)));
  } else {
    conv1_ = register_module("conv1", Conv2d(conv3x3(in_channels, out_channels)));
  }
  norm1_ = register_module("norm1", GroupNorm(norm(out_channels, norm_groups)));
  if (kind == BlockKind::kSeparable) {
    depthwise2_ = register_module("depthwise2", Conv2d(depthwise3x3(out_channels)));
    conv2_ = register_module("conv2", Conv2d(pointwise(out_channels, out_channels)));
  } else {
    conv2_ = register_module("conv2", Conv2d(conv3x3(out_channels, out_channels)));
  }
  norm2_ = register_module("norm2", GroupNorm(norm(out_channels, norm_groups)));
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& input) {
  auto x = depthwise1_ ? depthwise1_->forward(input) : input;
  x = torch::relu(norm1_->forward(conv1_->forward(x)));
  if (depthwise2_) x = depthwise2_->forward(x);
  return torch::relu(norm2_->forward(conv2_->forward(x)));
}

Conv2dOptions conv1x1(std::int64_t in_channels, std::int64_t out_channels) {
  Conv2dOptions o;
  o.in_channels = in_channels;
  o.out_channels = out_channels;
  o.kernel = {1, 1};
  return o;
}

torch::Tensor match_spatial(const torch::Tensor& x, const torch::Tensor& like) {
  const auto dh = like.size(2) - x.size(2);
  const auto dw = like.size(3) - x.size(3);
  if (dh == 0 && dw == 0) return x;
  // constant_pad_nd with negative amounts crops.
  return torch::constant_pad_nd(x, {0, dw, 0, dh});
}

}  // namespace dpsgd::models
