#include "dpsgd/data/sampling/shuffle_sampler.hpp"

#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>

namespace dpsgd::data {

ShuffleSampler::ShuffleSampler(std::int64_t dataset_size, std::int64_t batch_size,
                               std::uint64_t seed)
    : size_(dataset_size), batch_(batch_size), generator_(at::detail::createCPUGenerator(seed)) {
  if (dataset_size <= 0 || batch_size <= 0 || batch_size > dataset_size) {
    throw std::invalid_argument("shuffle sampler needs 0 < batch_size <= dataset size");
  }
}

torch::Tensor ShuffleSampler::next() {
  if (!order_.defined() || cursor_ + batch_ > size_) {
    order_ = torch::randperm(size_, generator_, torch::kInt64);
    cursor_ = 0;
  }
  auto out = order_.narrow(0, cursor_, batch_);
  cursor_ += batch_;
  return out;
}

}  // namespace dpsgd::data
