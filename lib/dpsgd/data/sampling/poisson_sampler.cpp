#include "dpsgd/data/sampling/poisson_sampler.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace dpsgd::data {
namespace {

std::int64_t checked_size(std::int64_t dataset_size) {
  if (dataset_size <= 0) {
    throw std::invalid_argument("PoissonSampler: dataset size must be > 0, got " +
                                std::to_string(dataset_size));
  }
  return dataset_size;
}

double checked_rate(double sample_rate) {
  // Written so that NaN fails too.
  if (!(sample_rate > 0.0 && sample_rate <= 1.0)) {
    throw std::invalid_argument("PoissonSampler: sample rate must be in (0, 1], got " +
                                std::to_string(sample_rate));
  }
  return sample_rate;
}

}  // namespace

PoissonSampler::PoissonSampler(std::int64_t dataset_size, double sample_rate,
                               util::RandomSource source)
    : dataset_size_(checked_size(dataset_size)),
      sample_rate_(checked_rate(sample_rate)),
      source_(std::move(source)) {}

torch::Tensor PoissonSampler::next() {
  // One uniform draw per example, in float64 so that P(u < q) is q to within
  // 2^-53; float32 would round q to 24 bits.
  const auto uniforms = source_.uniform(dataset_size_);
  // nonzero() returns indices in increasing order, already int64.
  return (uniforms < sample_rate_).nonzero().flatten();
}

std::int64_t PoissonSampler::expected_batch_size() const {
  return std::llround(sample_rate_ * static_cast<double>(dataset_size_));
}

util::StateMap PoissonSampler::state() const {
  util::StateMap out;
  out.put("source", source_.state());
  return out;
}

void PoissonSampler::load_state(const util::StateMap& state) {
  source_.load_state(state.child("source"));
}

}  // namespace dpsgd::data
