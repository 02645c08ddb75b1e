#pragma once
// How training batches are drawn. Private runs need Poisson sampling (every
// example joins each batch independently with probability q): the accountants'
// subsampled-Gaussian analysis assumes it, and the private step refuses any
// other sampler (privacy/dp_gradient.hpp). Shuffled fixed-size batches are for
// non-private baselines only.
#include <cstdint>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/state_map.hpp"

namespace dpsgd::data {

enum class Sampling { kPoisson, kShuffle };

class BatchSampler {
 public:
  virtual ~BatchSampler() = default;
  /// Indices of the next batch (int64, CPU).
  virtual torch::Tensor next() = 0;
  /// q when every example joins each batch independently with probability q;
  /// nullopt for any other scheme.
  [[nodiscard]] virtual std::optional<double> poisson_rate() const = 0;
  /// Everything the next batches depend on (the random source's state, and any
  /// position within an epoch), so that a sampler restored by load_state() draws
  /// exactly the batches this one would have drawn.
  [[nodiscard]] virtual util::StateMap state() const = 0;
  /// Restores a state() of a sampler of the same kind; throws std::runtime_error
  /// when it does not fit (e.g. a seeded/secure mismatch).
  virtual void load_state(const util::StateMap& state) = 0;
};

/// The Poisson sampling rate q = expected batch size / N: the one place q is
/// computed, so the sampler, the noise's divisor and the accountant agree exactly.
[[nodiscard]] double poisson_sample_rate(std::int64_t expected_batch_size,
                                         std::int64_t dataset_size);

/// A sampler of `sampling` over [0, dataset_size) with batches of (expected) size
/// `batch_size`, drawing from `source` (a seeded stream, or the OS CSPRNG).
std::unique_ptr<BatchSampler> make_sampler(Sampling sampling, std::int64_t dataset_size,
                                           std::int64_t batch_size, util::RandomSource source);

}  // namespace dpsgd::data
