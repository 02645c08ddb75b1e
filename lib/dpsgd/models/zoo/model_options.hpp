#pragma once
// Typed options every model factory receives (filled from YAML by config/, with
// in_channels and image_size taken from the data set by the experiment layer).
#include <cstdint>

namespace dpsgd::models {

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
};

}  // namespace dpsgd::models
