#include "dpsgd/models/zoo/wide_resnet.hpp"

#include <stdexcept>

namespace dpsgd::models {
namespace {

// Per-stage base widths and strides of the CIFAR ResNets (He et al. 2016, 4.2;
// Zagoruyko & Komodakis 2016 scale the widths by k).
constexpr std::int64_t kStageWidths[] = {16, 32, 64};
constexpr std::int64_t kStageStrides[] = {1, 2, 2};

std::int64_t blocks_per_stage(std::int64_t depth) {
  // d = 6 n + 4: the stem, 2 convolutions in each of 3 n blocks, and the classifier.
  if (depth < 10 || (depth - 4) % 6 != 0) {
    throw std::invalid_argument("wide_resnet: model.depth " + std::to_string(depth) +
                                " is invalid: depth - 4 must be a positive multiple of 6 "
                                "(10, 16, 22, 28, 40, ...)");
  }
  return (depth - 4) / 6;
}

}  // namespace

ResNetConv::ResNetConv(torch::nn::Module& parent, const std::string& name, std::int64_t in_channels,
                       std::int64_t out_channels, std::int64_t kernel, std::int64_t stride,
                       bool weight_standardisation) {
  Conv2dOptions o;
  o.in_channels = in_channels;
  o.out_channels = out_channels;
  o.kernel = {kernel, kernel};
  o.stride = {stride, stride};
  o.padding = {kernel / 2, kernel / 2};
  o.bias = true;
  if (weight_standardisation) {
    standardised_ = parent.register_module(name, WsConv2d(o));
  } else {
    plain_ = parent.register_module(name, Conv2d(o));
  }
}

torch::Tensor ResNetConv::forward(const torch::Tensor& input) {
  if (!standardised_.is_empty()) return standardised_->forward(input);
  if (!plain_.is_empty()) return plain_->forward(input);
  throw std::logic_error("ResNetConv: forward of an empty (identity) slot");
}

GroupNormOptions resnet_norm(std::int64_t channels, std::int64_t groups) {
  GroupNormOptions o;
  o.num_groups = groups;
  o.num_channels = channels;
  o.eps = 1e-5;
  o.affine = true;
  return o;
}

void check_resnet_norm_groups(std::int64_t groups, const std::string& model) {
  if (groups < 1 || 16 % groups != 0) {
    throw std::invalid_argument(model + ": model.norm_groups " + std::to_string(groups) +
                                " is invalid: it must divide 16, the narrowest layer's "
                                "channels (1, 2, 4, 8 or 16)");
  }
}

WideResNetBlockImpl::WideResNetBlockImpl(std::int64_t in_channels, std::int64_t out_channels,
                                         std::int64_t stride, std::int64_t norm_groups,
                                         bool weight_standardisation) {
  const bool ws = weight_standardisation;
  norm1_ = register_module("norm1", GroupNorm(resnet_norm(in_channels, norm_groups)));
  conv1_ = ResNetConv(*this, "conv1", in_channels, out_channels, 3, stride, ws);
  norm2_ = register_module("norm2", GroupNorm(resnet_norm(out_channels, norm_groups)));
  conv2_ = ResNetConv(*this, "conv2", out_channels, out_channels, 3, 1, ws);
  // Projection only where the identity cannot be added (He et al. 2016, option B).
  if (in_channels != out_channels || stride != 1) {
    shortcut_ = ResNetConv(*this, "shortcut", in_channels, out_channels, 1, stride, ws);
  }
}

torch::Tensor WideResNetBlockImpl::forward(const torch::Tensor& input) {
  const auto h = torch::relu(norm1_->forward(input));
  // Pre-activation: the projection reads the normalised h, the identity the raw x.
  const auto shortcut = shortcut_.empty() ? input : shortcut_.forward(h);
  auto y = conv1_.forward(h);
  y = conv2_.forward(torch::relu(norm2_->forward(y)));
  return y + shortcut;
}

WideResNet::WideResNet(const ModelOptions& options) {
  const std::int64_t n = blocks_per_stage(options.depth);
  if (options.width < 1) {
    throw std::invalid_argument("wide_resnet: model.width " + std::to_string(options.width) +
                                " is invalid: it must be >= 1");
  }
  check_resnet_norm_groups(options.norm_groups, "wide_resnet");
  const std::int64_t g = options.norm_groups;
  const bool ws = options.weight_standardisation;
  stem_ = ResNetConv(*this, "stem", options.in_channels, 16, 3, 1, ws);
  std::int64_t in = 16;
  for (std::size_t s = 0; s < 3; ++s) {
    auto stage = register_module("stage" + std::to_string(s + 1),
                                 std::make_shared<torch::nn::Module>("WideResNetStage"));
    const std::int64_t out = kStageWidths[s] * options.width;
    for (std::int64_t b = 0; b < n; ++b) {
      const std::int64_t stride = b == 0 ? kStageStrides[s] : 1;
      blocks_.push_back(stage->register_module("block" + std::to_string(b + 1),
                                               WideResNetBlock(in, out, stride, g, ws)));
      in = out;
    }
  }
  final_norm_ = register_module("final_norm", GroupNorm(resnet_norm(in, g)));
  fc_ = register_module("fc", Linear(in, options.num_classes));
}

torch::Tensor WideResNet::penultimate(const torch::Tensor& input) {
  auto x = stem_.forward(input);
  for (auto& block : blocks_) x = block->forward(x);
  return torch::relu(final_norm_->forward(x)).mean({2, 3});
}

torch::Tensor WideResNet::forward(const torch::Tensor& input) {
  return fc_->forward(penultimate(input));
}

}  // namespace dpsgd::models
