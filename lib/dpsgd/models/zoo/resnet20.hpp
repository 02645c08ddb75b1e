#pragma once
// CIFAR ResNet-20 (He et al. 2016, "Deep Residual Learning for Image
// Recognition", section 4.2: 6 n + 2 layers with n = 3) with GroupNorm in place
// of BatchNorm, whose batch statistics would mix the examples of a batch and void
// the per-example sensitivity bound; optionally weight-standardised convolutions
// (Qiao et al. 2019), as De et al. 2022 pair with GroupNorm for private training.
//
//   stem     conv3x3(C -> 16) -> GN -> relu
//   stages   3 basic blocks each, widths 16, 32, 64, strides 1, 2, 2
//   block    y = relu(GN(conv3x3(x, stride))); y = GN(conv3x3(y));
//            s = x, or GN(conv1x1(x, stride)) when the shape changes (option B);
//            return relu(y + s)
//   head     mean over H, W -> Linear(64 -> classes)
// Every convolution has a bias and padding k / 2 (the convolution of
// wide_resnet.hpp). A PyTorch twin of this exact architecture serves the Opacus
// benchmark, so changes here must be made there too.
#include <vector>

#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/model_options.hpp"
#include "dpsgd/models/zoo/wide_resnet.hpp"

namespace dpsgd::models {

/// One post-activation basic block of ResNet-20.
class ResNet20BlockImpl : public torch::nn::Module {
 public:
  ResNet20BlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t stride,
                    std::int64_t norm_groups, bool weight_standardisation);
  torch::Tensor forward(const torch::Tensor& input);

 private:
  ResNetConv conv1_;
  GroupNorm norm1_{nullptr};
  ResNetConv conv2_;
  GroupNorm norm2_{nullptr};
  ResNetConv shortcut_;               // empty for the identity
  GroupNorm shortcut_norm_{nullptr};  // null for the identity
};
TORCH_MODULE(ResNet20Block);

class ResNet20 final : public Model {
 public:
  /// Reads in_channels, num_classes, norm_groups and weight_standardisation;
  /// std::invalid_argument naming model.norm_groups unless it divides 16.
  explicit ResNet20(const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& input) override;
  /// The 64 pooled features the classifier reads.
  torch::Tensor penultimate(const torch::Tensor& input) override;

 private:
  ResNetConv stem_;
  GroupNorm stem_norm_{nullptr};
  std::vector<ResNet20Block> blocks_;  // stage by stage, in order
  Linear fc_{nullptr};
};

}  // namespace dpsgd::models
