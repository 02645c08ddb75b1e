#pragma once
// Typed options every model factory receives (filled from YAML by config/, with
// in_channels and image_size taken from the data set by the experiment layer).
#include <cstdint>
#include <vector>

namespace dpsgd::models {

/// The U-Nets' convolution block (conv_block.hpp).
enum class BlockKind {
  kStandard,   ///< 3x3 convolutions
  kSeparable,  ///< depthwise 3x3 then pointwise 1x1 (Chollet 2017): ~9x fewer weights
};

struct ModelOptions {
  std::int64_t in_channels = 1;
  std::int64_t num_classes = 10;
  std::int64_t image_size = 28;
  /// The number of input values per example (C * H * W, or D for feature vectors).
  std::int64_t in_features = 784;
  /// linear: start from zero weights and bias.
  bool zero_init = false;
  /// Segmentation models: channels of the first level (doubled per level down).
  std::int64_t base_filters = 32;
  /// Segmentation models: GroupNorm groups per normalisation layer (must divide
  /// every level's channel count).
  std::int64_t norm_groups = 8;
  /// Segmentation models: standard or depthwise-separable convolution blocks.
  BlockKind block = BlockKind::kStandard;
  /// filter_bank_head: the Gaussian scales (pixels) of the fixed filter bank.
  std::vector<double> scales{1.0, 2.0, 4.0, 8.0, 16.0};
  /// wide_resnet: depth d (d - 4 divisible by 6: (d - 4) / 6 blocks per stage) and
  /// width factor k (stage widths 16k, 32k, 64k); WRN-16-4 by default.
  std::int64_t depth = 16;
  std::int64_t width = 4;
  /// wide_resnet, resnet20: weight-standardised convolutions (Qiao et al. 2019).
  bool weight_standardisation = true;
  /// mlp, filter_bank_head: the hidden layers' widths, first to last.
  std::vector<std::int64_t> hidden{512, 256};
};

}  // namespace dpsgd::models
