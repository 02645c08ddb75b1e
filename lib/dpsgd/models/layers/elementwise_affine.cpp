#include "dpsgd/models/layers/elementwise_affine.hpp"

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

ElementwiseAffineImpl::ElementwiseAffineImpl(const std::vector<std::int64_t>& shape,
                                             bool with_bias) {
  weight = register_parameter("weight", torch::ones(shape));
  if (with_bias) bias = register_parameter("bias", torch::zeros(shape));
}

torch::Tensor ElementwiseAffineImpl::plain_forward(const torch::Tensor& input) {
  return bias.defined() ? torch::addcmul(bias, input, weight) : input * weight;
}

std::vector<torch::Tensor> ElementwiseAffineImpl::layer_parameters() {
  if (bias.defined()) return {weight, bias};
  return {weight};
}

std::string ElementwiseAffineImpl::describe() const {
  std::string shape;
  for (const auto s : weight.sizes()) shape += (shape.empty() ? "" : "x") + std::to_string(s);
  return util::cat("ElementwiseAffine(", shape, bias.defined() ? "" : ", no bias", ")");
}

}  // namespace dpsgd::models
