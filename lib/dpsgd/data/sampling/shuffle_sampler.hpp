#pragma once
// Fixed-size batches from a seeded random permutation per epoch (sampling
// without replacement). For non-private baselines only: the DP accountants
// assume Poisson sampling, so private runs refuse this sampler (the config loader,
// and the private step itself: privacy::DpGradient::check_sampler).
#include <cstdint>

#include <torch/torch.h>

#include "dpsgd/data/sampling/batch_sampler.hpp"

namespace dpsgd::data {

class ShuffleSampler final : public BatchSampler {
 public:
  ShuffleSampler(std::int64_t dataset_size, std::int64_t batch_size, std::uint64_t seed);
  /// Indices of the next batch (int64, CPU); reshuffles when an epoch is used up.
  torch::Tensor next() override;
  [[nodiscard]] std::optional<double> poisson_rate() const override { return std::nullopt; }

 private:
  std::int64_t size_;
  std::int64_t batch_;
  at::Generator generator_;
  torch::Tensor order_;
  std::int64_t cursor_ = 0;
};

}  // namespace dpsgd::data
