#include "dpsgd/data/sampling/batch_sampler.hpp"

#include <utility>

#include "dpsgd/data/sampling/poisson_sampler.hpp"
#include "dpsgd/data/sampling/shuffle_sampler.hpp"

namespace dpsgd::data {

double poisson_sample_rate(std::int64_t expected_batch_size, std::int64_t dataset_size) {
  return static_cast<double>(expected_batch_size) / static_cast<double>(dataset_size);
}

std::unique_ptr<BatchSampler> make_sampler(Sampling sampling, std::int64_t dataset_size,
                                           std::int64_t batch_size, util::RandomSource source) {
  if (sampling == Sampling::kShuffle) {
    return std::make_unique<ShuffleSampler>(dataset_size, batch_size, std::move(source));
  }
  return std::make_unique<PoissonSampler>(
      dataset_size, poisson_sample_rate(batch_size, dataset_size), std::move(source));
}

}  // namespace dpsgd::data
