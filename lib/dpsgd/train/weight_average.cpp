#include "dpsgd/train/weight_average.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dpsgd::train {

WeightAverage::WeightAverage(models::Model& model, double decay, bool warmup)
    : params_(model.parameters()), decay_(decay), warmup_(warmup) {
  if (!(decay > 0.0 && decay < 1.0)) throw std::invalid_argument("EMA decay must be in (0, 1)");
  torch::NoGradGuard no_grad;
  for (const auto& p : params_) averages_.push_back(p.detach().clone());
}

double WeightAverage::next_decay() const {
  if (!warmup_) return decay_;
  const auto t = static_cast<double>(updates_);
  return std::min(decay_, (1.0 + t) / (10.0 + t));
}

void WeightAverage::update() {
  torch::NoGradGuard no_grad;
  const double d = next_decay();
  for (std::size_t k = 0; k < params_.size(); ++k) {
    averages_[k].mul_(d).add_(params_[k].detach(), 1.0 - d);
  }
  ++updates_;
}

WeightAverage::Swap::Swap(WeightAverage& average) : average_(average) {
  torch::NoGradGuard no_grad;
  // Every copy first: if one fails (memory), the model is still all raw.
  for (const auto& p : average_.params_) raw_.push_back(p.detach().clone());
  for (std::size_t k = 0; k < average_.params_.size(); ++k) {
    average_.params_[k].copy_(average_.averages_[k]);
  }
}

WeightAverage::Swap::~Swap() {
  torch::NoGradGuard no_grad;
  for (std::size_t k = 0; k < raw_.size(); ++k) average_.params_[k].copy_(raw_[k]);
}

util::StateMap WeightAverage::state() const {
  util::StateMap s;
  s.values = {{"updates", updates_}, {"decay", decay_}, {"warmup", warmup_}};
  for (std::size_t k = 0; k < averages_.size(); ++k) {
    s.tensors["average_" + std::to_string(k)] = averages_[k];
  }
  return s;
}

void WeightAverage::load_state(const util::StateMap& state) {
  torch::NoGradGuard no_grad;
  for (std::size_t k = 0; k < averages_.size(); ++k) {
    const auto it = state.tensors.find("average_" + std::to_string(k));
    if (it == state.tensors.end() || !it->second.sizes().equals(averages_[k].sizes())) {
      throw std::runtime_error("the checkpoint's weight average does not fit the model (entry " +
                               std::to_string(k) + ")");
    }
    averages_[k].copy_(it->second);
  }
  updates_ = state.values.at("updates").get<std::int64_t>();
}

}  // namespace dpsgd::train
