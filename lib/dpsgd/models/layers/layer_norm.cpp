#include "dpsgd/models/layers/layer_norm.hpp"

#include <stdexcept>

namespace dpsgd::models {

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options) : options_(options) {
  if (options.normalized_shape.empty()) {
    throw std::invalid_argument("LayerNorm: normalized_shape must name at least one dimension");
  }
  for (const auto s : options.normalized_shape) {
    if (s <= 0) throw std::invalid_argument("LayerNorm: normalized_shape must be positive");
  }
  if (options.elementwise_affine) {
    affine = register_module("affine", ElementwiseAffine(options.normalized_shape, options.bias));
  }
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& input) {
  const auto normalised = torch::layer_norm(input, options_.normalized_shape, /*weight=*/{},
                                            /*bias=*/{}, options_.eps);
  return affine ? affine->forward(normalised) : normalised;
}

}  // namespace dpsgd::models
