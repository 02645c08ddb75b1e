#pragma once
// The step arithmetic of a run in one place: how many optimizer steps an epoch
// and a whole run take. The total feeds the privacy accountant and sigma
// calibration, so an overflow there (epochs near 2^63) would turn into a
// negative step count and a wrong noise multiplier: total_steps refuses it.
#include <cstdint>

namespace dpsgd::train {

/// Steps per epoch: floor(N / batch_size), at least 1 (as Opacus' DP data loader).
/// batch_size must be >= 1.
std::int64_t steps_per_epoch(std::int64_t dataset_size, std::int64_t batch_size);

/// steps_per_epoch(dataset_size, batch_size) * epochs; throws std::overflow_error
/// when the product does not fit in int64, std::invalid_argument when epochs < 1.
std::int64_t total_steps(std::int64_t dataset_size, std::int64_t batch_size, std::int64_t epochs);

}  // namespace dpsgd::train
