#pragma once
// U-Net (Ronneberger, Fischer, Brox 2015) for per-pixel classification, as in the
// OCT study: four encoder levels of base*{1,2,4,8} channels (32-64-128-256 by
// default) with 2x2 max-pooling, a base*16 (512) bottleneck, and a decoder that
// upsamples with 2x2 stride-2 transposed convolutions, concatenates the skip
// connection and applies the same block. Blocks are conv3x3-GroupNorm-ReLU twice
// (conv_block.hpp). A final 1x1 convolution gives logits B x K x H x W: the loss
// takes the softmax, never the model. Inputs of at least 16 x 16 work (odd sizes
// are matched to the skip connection); multiples of 16 avoid padding.
#include <vector>

#include "dpsgd/models/layers/conv_transpose2d.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/conv_block.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::models {

class UNet final : public Model {
 public:
  explicit UNet(const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& input) override;

 private:
  std::vector<ConvBlock> down_;  // 4 encoder blocks
  ConvBlock bottleneck_{nullptr};
  std::vector<ConvTranspose2d> up_;  // 4 upsamplers, deepest first
  std::vector<ConvBlock> dec_;       // 4 decoder blocks, deepest first
  Conv2d head_{nullptr};
};

}  // namespace dpsgd::models
