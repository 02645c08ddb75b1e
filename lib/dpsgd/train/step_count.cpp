#include "dpsgd/train/step_count.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace dpsgd::train {

std::int64_t steps_per_epoch(std::int64_t dataset_size, std::int64_t batch_size) {
  if (batch_size < 1) {
    throw std::invalid_argument("steps_per_epoch: batch_size must be >= 1, got " +
                                std::to_string(batch_size));
  }
  return std::max<std::int64_t>(1, dataset_size / batch_size);
}

std::int64_t total_steps(std::int64_t dataset_size, std::int64_t batch_size, std::int64_t epochs) {
  if (epochs < 1) {
    throw std::invalid_argument("total_steps: epochs must be >= 1, got " + std::to_string(epochs));
  }
  const std::int64_t per_epoch = steps_per_epoch(dataset_size, batch_size);
  if (per_epoch > std::numeric_limits<std::int64_t>::max() / epochs) {
    throw std::overflow_error(std::to_string(epochs) + " epochs of " + std::to_string(per_epoch) +
                              " steps exceed the largest step count (2^63 - 1)");
  }
  return per_epoch * epochs;
}

}  // namespace dpsgd::train
