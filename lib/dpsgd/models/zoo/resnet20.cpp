#include "dpsgd/models/zoo/resnet20.hpp"

#include <string>

namespace dpsgd::models {
namespace {

constexpr std::int64_t kBlocksPerStage = 3;  // n = 3: 6 n + 2 = 20 layers
constexpr std::int64_t kStageWidths[] = {16, 32, 64};
constexpr std::int64_t kStageStrides[] = {1, 2, 2};

}  // namespace

ResNet20BlockImpl::ResNet20BlockImpl(std::int64_t in_channels, std::int64_t out_channels,
                                     std::int64_t stride, std::int64_t norm_groups,
                                     bool weight_standardisation) {
  const bool ws = weight_standardisation;
  conv1_ = ResNetConv(*this, "conv1", in_channels, out_channels, 3, stride, ws);
  norm1_ = register_module("norm1", GroupNorm(resnet_norm(out_channels, norm_groups)));
  conv2_ = ResNetConv(*this, "conv2", out_channels, out_channels, 3, 1, ws);
  norm2_ = register_module("norm2", GroupNorm(resnet_norm(out_channels, norm_groups)));
  // Option B of He et al. 2016: a projection only where the shape changes.
  if (in_channels != out_channels || stride != 1) {
    shortcut_ = ResNetConv(*this, "shortcut", in_channels, out_channels, 1, stride, ws);
    shortcut_norm_ =
        register_module("shortcut_norm", GroupNorm(resnet_norm(out_channels, norm_groups)));
  }
}

torch::Tensor ResNet20BlockImpl::forward(const torch::Tensor& input) {
  auto y = torch::relu(norm1_->forward(conv1_.forward(input)));
  y = norm2_->forward(conv2_.forward(y));
  const auto shortcut =
      shortcut_.empty() ? input : shortcut_norm_->forward(shortcut_.forward(input));
  return torch::relu(y + shortcut);
}

ResNet20::ResNet20(const ModelOptions& options) {
  check_resnet_norm_groups(options.norm_groups, "resnet20");
  const std::int64_t g = options.norm_groups;
  const bool ws = options.weight_standardisation;
  stem_ = ResNetConv(*this, "stem", options.in_channels, 16, 3, 1, ws);
  stem_norm_ = register_module("stem_norm", GroupNorm(resnet_norm(16, g)));
  std::int64_t in = 16;
  for (std::size_t s = 0; s < 3; ++s) {
    auto stage = register_module("stage" + std::to_string(s + 1),
                                 std::make_shared<torch::nn::Module>("ResNet20Stage"));
    const std::int64_t out = kStageWidths[s];
    for (std::int64_t b = 0; b < kBlocksPerStage; ++b) {
      const std::int64_t stride = b == 0 ? kStageStrides[s] : 1;
      blocks_.push_back(stage->register_module("block" + std::to_string(b + 1),
                                               ResNet20Block(in, out, stride, g, ws)));
      in = out;
    }
  }
  fc_ = register_module("fc", Linear(in, options.num_classes));
}

torch::Tensor ResNet20::penultimate(const torch::Tensor& input) {
  auto x = torch::relu(stem_norm_->forward(stem_.forward(input)));
  for (auto& block : blocks_) x = block->forward(x);
  return x.mean({2, 3});
}

torch::Tensor ResNet20::forward(const torch::Tensor& input) {
  return fc_->forward(penultimate(input));
}

}  // namespace dpsgd::models
