#pragma once
// Nested U-Net, "UNet++" (Zhou, Rahman Siddiquee, Tajbakhsh, Liang 2018), as in
// the OCT study: a backbone of five levels with base*{1,2,4,8,16} channels
// (32..512 by default) and dense nested skip pathways. Node X(i, j) (level i,
// position j) is a block (conv3x3-GroupNorm-ReLU twice) applied to
//   j = 0: maxpool(X(i-1, 0))            (X(0, 0): the input)
//   j > 0: cat(X(i, 0), ..., X(i, j-1), up(X(i+1, j-1)))
// where up is bilinear upsampling by 2 (parameter-free). The logits come from a
// 1x1 convolution of X(0, 4) (no deep supervision), B x K x H x W.
#include <vector>

#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/conv_block.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::models {

class NestedUNet final : public Model {
 public:
  explicit NestedUNet(const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& input) override;

 private:
  static constexpr int kLevels = 5;
  // blocks_[i][j] is node X(i, j); level i has kLevels - i nodes.
  std::vector<std::vector<ConvBlock>> blocks_;
  Conv2d head_{nullptr};
};

}  // namespace dpsgd::models
