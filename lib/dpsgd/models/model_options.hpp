#pragma once
// Typed options every model factory receives (filled from YAML by config/).
#include <cstdint>

namespace dpsgd::models {

struct ModelOptions {
  std::int64_t in_channels = 1;
  std::int64_t num_classes = 10;
  std::int64_t image_size = 28;
};

}  // namespace dpsgd::models
