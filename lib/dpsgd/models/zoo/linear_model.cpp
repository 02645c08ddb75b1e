#include "dpsgd/models/zoo/linear_model.hpp"

namespace dpsgd::models {

LinearModel::LinearModel(std::int64_t in_features, std::int64_t num_classes, bool zero_init) {
  fc_ = register_module("fc", Linear(in_features, num_classes));
  if (zero_init) {
    torch::NoGradGuard no_grad;
    fc_->weight.zero_();
    fc_->bias.zero_();
  }
}

torch::Tensor LinearModel::forward(const torch::Tensor& input) {
  return fc_->forward(input.flatten(1));
}

}  // namespace dpsgd::models
