#include "dpsgd/models/layers/linear.hpp"

#include <cmath>

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

LinearImpl::LinearImpl(std::int64_t in_features, std::int64_t out_features, bool with_bias) {
  // PyTorch's default initialisation (uniform in +-1/sqrt(fan_in)), so results are
  // comparable with the Python baselines researchers know.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  weight = register_parameter("weight",
                              torch::empty({out_features, in_features}).uniform_(-bound, bound));
  if (with_bias) {
    bias = register_parameter("bias", torch::empty({out_features}).uniform_(-bound, bound));
  }
}

torch::Tensor LinearImpl::plain_forward(const torch::Tensor& input) {
  return torch::nn::functional::linear(input, weight, bias);
}

std::vector<torch::Tensor> LinearImpl::layer_parameters() {
  if (bias.defined()) return {weight, bias};
  return {weight};
}

std::string LinearImpl::describe() const {
  return util::cat("Linear(", weight.size(1), ", ", weight.size(0),
                   bias.defined() ? "" : ", no bias", ")");
}

}  // namespace dpsgd::models
