#include "dpsgd/data/sampling/shuffle_sampler.hpp"

#include <stdexcept>
#include <utility>

namespace dpsgd::data {

ShuffleSampler::ShuffleSampler(std::int64_t dataset_size, std::int64_t batch_size,
                               util::RandomSource source)
    : size_(dataset_size), batch_(batch_size), source_(std::move(source)) {
  if (dataset_size <= 0 || batch_size <= 0 || batch_size > dataset_size) {
    throw std::invalid_argument("shuffle sampler needs 0 < batch_size <= dataset size");
  }
}

torch::Tensor ShuffleSampler::next() {
  if (!order_.defined() || cursor_ + batch_ > size_) {
    order_ = source_.randperm(size_);
    cursor_ = 0;
  }
  auto out = order_.narrow(0, cursor_, batch_);
  cursor_ += batch_;
  return out;
}

util::StateMap ShuffleSampler::state() const {
  util::StateMap out;
  out.put("source", source_.state());
  out.values["cursor"] = cursor_;
  if (order_.defined()) out.tensors["order"] = order_.clone();
  return out;
}

void ShuffleSampler::load_state(const util::StateMap& state) {
  source_.load_state(state.child("source"));
  cursor_ = state.value("cursor").get<std::int64_t>();
  const auto it = state.tensors.find("order");
  if (it == state.tensors.end()) {
    order_ = torch::Tensor();
    return;
  }
  if (it->second.numel() != size_ || cursor_ < 0 || cursor_ > size_) {
    throw std::runtime_error("the saved shuffle order does not fit this data set's size");
  }
  order_ = it->second.to(torch::kInt64).clone();
}

}  // namespace dpsgd::data
