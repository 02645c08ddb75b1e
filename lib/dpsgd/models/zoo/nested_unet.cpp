#include "dpsgd/models/zoo/nested_unet.hpp"

#include <string>

namespace dpsgd::models {
namespace {

// Bilinear upsampling of x to the spatial size of `like` (2x, or the odd size).
torch::Tensor upsample_to(const torch::Tensor& x, const torch::Tensor& like) {
  return torch::upsample_bilinear2d(x, {like.size(2), like.size(3)}, /*align_corners=*/true);
}

}  // namespace

NestedUNet::NestedUNet(const ModelOptions& options) {
  const std::int64_t b = options.base_filters;
  const std::int64_t g = options.norm_groups;
  std::vector<std::int64_t> widths;
  for (int i = 0; i < kLevels; ++i) widths.push_back(b << i);
  blocks_.resize(kLevels);
  for (int i = 0; i < kLevels; ++i) {
    for (int j = 0; i + j < kLevels; ++j) {
      const std::int64_t in =
          j == 0 ? (i == 0 ? options.in_channels : widths[i - 1]) : j * widths[i] + widths[i + 1];
      const auto name = "x" + std::to_string(i) + "_" + std::to_string(j);
      blocks_[i].push_back(register_module(name, ConvBlock(in, widths[i], g, options.block)));
    }
  }
  head_ = register_module("head", Conv2d(conv1x1(b, options.num_classes)));
}

torch::Tensor NestedUNet::forward(const torch::Tensor& input) {
  // Computed by anti-diagonals: X(i, j) needs X(i, <j) and X(i+1, j-1).
  std::vector<std::vector<torch::Tensor>> x(kLevels);
  x[0].push_back(blocks_[0][0]->forward(input));
  for (int i = 1; i < kLevels; ++i) {
    x[i].push_back(blocks_[i][0]->forward(torch::max_pool2d(x[i - 1][0], {2, 2}, {2, 2})));
    // Every node whose inputs now exist: X(i - j, j) for j = 1..i.
    for (int j = 1; j <= i; ++j) {
      const int level = i - j;
      std::vector<torch::Tensor> parts(x[level].begin(), x[level].end());
      parts.push_back(upsample_to(x[level + 1][j - 1], x[level][0]));
      x[level].push_back(blocks_[level][j]->forward(torch::cat(parts, 1)));
    }
  }
  return head_->forward(x[0][kLevels - 1]);
}

}  // namespace dpsgd::models
