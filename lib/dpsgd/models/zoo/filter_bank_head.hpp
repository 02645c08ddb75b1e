#pragma once
// A private per-pixel head on fixed features: the data-independent filter bank
// of filter_bank.hpp (Gaussian-derivative responses at model.scales, the image
// and the row coordinate), then a per-pixel MLP of 1x1 convolutions with ReLU
// (widths model.hidden) and a 1x1 convolution to the classes' logits. Only the
// head is trained, so the noise of DP-SGD lands on a few thousand parameters
// instead of millions (Tramer & Boneh 2021; the DP-LS/DP-FC idea of issue 15
// carried to segmentation, where every pixel is a feature vector but the unit of
// privacy stays the whole image). With model.hidden empty the head is linear.
#include <vector>

#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::models {

class FilterBankHead final : public Model {
 public:
  /// Reads in_channels, num_classes, scales and hidden; std::invalid_argument
  /// naming the key for an empty scale list, a scale <= 0 or a width < 1.
  explicit FilterBankHead(const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& input) override;

 private:
  std::vector<double> scales_;
  std::vector<Conv2d> hidden_;
  Conv2d head_{nullptr};
};

}  // namespace dpsgd::models
