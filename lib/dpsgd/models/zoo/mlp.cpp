#include "dpsgd/models/zoo/mlp.hpp"

#include <stdexcept>
#include <string>

namespace dpsgd::models {

Mlp::Mlp(const ModelOptions& options) {
  if (options.in_features < 1) {
    throw std::invalid_argument("mlp: in_features " + std::to_string(options.in_features) +
                                " is invalid: it must be >= 1");
  }
  std::int64_t in = options.in_features;
  for (std::size_t i = 0; i < options.hidden.size(); ++i) {
    const std::int64_t width = options.hidden[i];
    if (width < 1) {
      throw std::invalid_argument("mlp: model.hidden[" + std::to_string(i) + "] " +
                                  std::to_string(width) + " is invalid: it must be >= 1");
    }
    hidden_.push_back(register_module("hidden" + std::to_string(i + 1), Linear(in, width)));
    in = width;
  }
  head_ = register_module("head", Linear(in, options.num_classes));
}

torch::Tensor Mlp::penultimate(const torch::Tensor& input) {
  auto x = input.flatten(1);
  for (auto& layer : hidden_) x = torch::relu(layer->forward(x));
  return x;
}

torch::Tensor Mlp::forward(const torch::Tensor& input) {
  return head_->forward(penultimate(input));
}

}  // namespace dpsgd::models
