#pragma once
// Wide residual network WRN-d-k (Zagoruyko & Komodakis 2016, "Wide Residual
// Networks") in the form De et al. (2022, "Unlocking High-Accuracy Differentially
// Private Image Classification through Scale") train privately: pre-activation
// blocks (He et al. 2016, "Identity Mappings in Deep Residual Networks") with
// GroupNorm instead of BatchNorm, whose batch statistics would mix the examples
// of a batch and void the per-example sensitivity bound, and weight-standardised
// convolutions (Qiao et al. 2019), which De et al. find make GroupNorm networks
// train well under DP noise.
//
//   stem     conv3x3(C -> 16)
//   stages   n = (d - 4) / 6 blocks each, widths 16k, 32k, 64k, strides 1, 2, 2
//            (the first block of a stage changes width and stride)
//   block    h = relu(GN(x)); s = x, or conv1x1(h) when the shape changes;
//            y = conv3x3(h); y = conv3x3(relu(GN(y))); return y + s
//   head     relu(GN(x)) -> mean over H, W -> Linear(64k -> classes)
// Every convolution has a bias and padding k / 2. A PyTorch twin of this exact
// architecture serves the Opacus benchmark, so changes here must be made there too.
#include <string>
#include <vector>

#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/layers/ws_conv2d.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::models {

/// The convolution of the CIFAR ResNets (this file and resnet20.hpp): a
/// weight-standardised WsConv2d or a plain Conv2d, kernel k, padding k / 2, with
/// bias. It registers the layer itself on `parent` under `name`, so the layer's
/// path stays readable (stage1.block1.conv1) whichever type it is.
class ResNetConv {
 public:
  ResNetConv() = default;  ///< empty: an identity shortcut
  ResNetConv(torch::nn::Module& parent, const std::string& name, std::int64_t in_channels,
             std::int64_t out_channels, std::int64_t kernel, std::int64_t stride,
             bool weight_standardisation);

  torch::Tensor forward(const torch::Tensor& input);
  [[nodiscard]] bool empty() const { return plain_.is_empty() && standardised_.is_empty(); }

 private:
  Conv2d plain_{nullptr};
  WsConv2d standardised_{nullptr};
};

/// GroupNorm options of the CIFAR ResNets: `groups` groups, eps 1e-5, affine.
GroupNormOptions resnet_norm(std::int64_t channels, std::int64_t groups);

/// Throws std::invalid_argument naming model.norm_groups unless `groups` divides
/// 16, the narrowest layer of `model`; the wider layers (multiples of 16) follow.
void check_resnet_norm_groups(std::int64_t groups, const std::string& model);

/// One pre-activation block of a WRN stage.
class WideResNetBlockImpl : public torch::nn::Module {
 public:
  WideResNetBlockImpl(std::int64_t in_channels, std::int64_t out_channels, std::int64_t stride,
                      std::int64_t norm_groups, bool weight_standardisation);
  torch::Tensor forward(const torch::Tensor& input);

 private:
  GroupNorm norm1_{nullptr};  // in_channels
  ResNetConv conv1_;
  GroupNorm norm2_{nullptr};  // out_channels
  ResNetConv conv2_;
  ResNetConv shortcut_;  // empty for the identity
};
TORCH_MODULE(WideResNetBlock);

class WideResNet final : public Model {
 public:
  /// Reads in_channels, num_classes, depth, width, norm_groups and
  /// weight_standardisation; std::invalid_argument naming the key otherwise.
  explicit WideResNet(const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& input) override;
  /// The 64k pooled features the classifier reads.
  torch::Tensor penultimate(const torch::Tensor& input) override;

 private:
  ResNetConv stem_;
  std::vector<WideResNetBlock> blocks_;  // stage by stage, in order
  GroupNorm final_norm_{nullptr};
  Linear fc_{nullptr};
};

}  // namespace dpsgd::models
