#pragma once
// Fixed-size batches from a random permutation per epoch (sampling without
// replacement), drawn from the sampler's own random source. For non-private
// baselines only: the DP accountants assume Poisson sampling, so private runs
// refuse this sampler (the config loader, and the private step itself:
// privacy::DpGradient::check_sampler).
#include <cstdint>

#include <torch/torch.h>

#include "dpsgd/data/sampling/batch_sampler.hpp"

namespace dpsgd::data {

class ShuffleSampler final : public BatchSampler {
 public:
  ShuffleSampler(std::int64_t dataset_size, std::int64_t batch_size, util::RandomSource source);
  /// Seeded with `seed` on the CPU (tests).
  ShuffleSampler(std::int64_t dataset_size, std::int64_t batch_size, std::uint64_t seed)
      : ShuffleSampler(dataset_size, batch_size, util::RandomSource::seeded(seed)) {}
  /// Indices of the next batch (int64, CPU); reshuffles when an epoch is used up.
  torch::Tensor next() override;
  [[nodiscard]] std::optional<double> poisson_rate() const override { return std::nullopt; }
  /// The source under "source/", the epoch's permutation ("order", when one was
  /// drawn) and the position in it ("cursor").
  [[nodiscard]] util::StateMap state() const override;
  void load_state(const util::StateMap& state) override;

 private:
  std::int64_t size_;
  std::int64_t batch_;
  util::RandomSource source_;
  torch::Tensor order_;
  std::int64_t cursor_ = 0;
};

}  // namespace dpsgd::data
