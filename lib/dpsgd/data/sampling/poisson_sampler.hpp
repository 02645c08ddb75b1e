#pragma once
// Poisson subsampling for DP-SGD.
//
// Guarantee: every call to next() includes each of the n examples
// independently with probability q (a Bernoulli(q) trial per example, fresh
// for every batch), so the batch size is Binomial(n, q) and varies from step
// to step; it may be 0. This is the sampling that the RDP accountant's
// subsampled-Gaussian bound assumes (Abadi et al. 2016, "Deep Learning with
// Differential Privacy"; Mironov, Talwar & Zhang 2019, "Renyi Differential
// Privacy of the Sampled Gaussian Mechanism"). The privacy claim holds only for
// the batches exactly as returned: callers must not pad, truncate, drop empty
// batches, or reshuffle the examples into fixed-size batches, since that is a
// different mechanism the accountant does not cover.
//
// Draws come from this sampler's own random source (util/random_source.hpp):
// seeded from the run's batch-sampling stream, never torch's global generator,
// so the sequence of batches depends only on (n, q, stream) and not on how much
// randomness model code or augmentation consumed; or the OS CSPRNG
// (privacy.secure_rng), which the guarantee needs when the seed may be known:
// anyone who can replay the seeded stream knows every batch, and the
// amplification by subsampling that the accountant counts on is gone.
#include <cstdint>

#include <torch/torch.h>

#include "dpsgd/data/sampling/batch_sampler.hpp"

namespace dpsgd::data {

class PoissonSampler final : public BatchSampler {
 public:
  /// Throws std::invalid_argument unless dataset_size > 0 and 0 < sample_rate <= 1.
  PoissonSampler(std::int64_t dataset_size, double sample_rate, util::RandomSource source);
  /// Seeded with `seed` on the CPU (tests).
  PoissonSampler(std::int64_t dataset_size, double sample_rate, std::uint64_t seed)
      : PoissonSampler(dataset_size, sample_rate, util::RandomSource::seeded(seed)) {}

  /// Next batch: an int64 CPU tensor of sorted, distinct indices in [0, n).
  torch::Tensor next() override;

  double sample_rate() const { return sample_rate_; }
  [[nodiscard]] std::optional<double> poisson_rate() const override { return sample_rate_; }
  std::int64_t dataset_size() const { return dataset_size_; }
  /// round(q * n), the mean batch size; for logs and memory planning only, the
  /// actual batches vary around it.
  std::int64_t expected_batch_size() const;
  /// The source's state under "source/".
  [[nodiscard]] util::StateMap state() const override;
  void load_state(const util::StateMap& state) override;

 private:
  std::int64_t dataset_size_;
  double sample_rate_;
  util::RandomSource source_;
};

}  // namespace dpsgd::data
