#include "dpsgd/models/zoo/unet.hpp"

#include <string>

namespace dpsgd::models {

UNet::UNet(const ModelOptions& options) {
  const std::int64_t b = options.base_filters;
  const std::int64_t g = options.norm_groups;
  const std::vector<std::int64_t> widths = {b, 2 * b, 4 * b, 8 * b};
  std::int64_t in = options.in_channels;
  for (std::size_t i = 0; i < widths.size(); ++i) {
    down_.push_back(register_module("down" + std::to_string(i + 1),
                                    ConvBlock(in, widths[i], g, options.block)));
    in = widths[i];
  }
  bottleneck_ = register_module("bottleneck", ConvBlock(in, 16 * b, g, options.block));
  in = 16 * b;
  for (std::size_t i = widths.size(); i-- > 0;) {
    ConvTranspose2dOptions up;
    up.in_channels = in;
    up.out_channels = widths[i];
    up.kernel = {2, 2};
    up.stride = {2, 2};
    const auto level = std::to_string(i + 1);
    up_.push_back(register_module("up" + level, ConvTranspose2d(up)));
    dec_.push_back(
        register_module("dec" + level, ConvBlock(2 * widths[i], widths[i], g, options.block)));
    in = widths[i];
  }
  head_ = register_module("head", Conv2d(conv1x1(b, options.num_classes)));
}

torch::Tensor UNet::forward(const torch::Tensor& input) {
  std::vector<torch::Tensor> skips;
  auto x = input;
  for (auto& block : down_) {
    x = block->forward(x);
    skips.push_back(x);
    x = torch::max_pool2d(x, {2, 2}, {2, 2});
  }
  x = bottleneck_->forward(x);
  for (std::size_t i = 0; i < up_.size(); ++i) {
    const auto& skip = skips[skips.size() - 1 - i];
    x = match_spatial(up_[i]->forward(x), skip);
    x = dec_[i]->forward(torch::cat({skip, x}, 1));
  }
  return head_->forward(x);
}

}  // namespace dpsgd::models
