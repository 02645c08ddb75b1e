#include "dpsgd/models/layers/group_norm.hpp"

#include <stdexcept>

namespace dpsgd::models {

GroupNormImpl::GroupNormImpl(const GroupNormOptions& options) : options_(options) {
  if (options.num_groups <= 0 || options.num_channels % options.num_groups != 0) {
    throw std::invalid_argument("GroupNorm: num_channels must be divisible by num_groups");
  }
  if (options.affine) affine = register_module("affine", ChannelAffine(options.num_channels));
}

torch::Tensor GroupNormImpl::forward(const torch::Tensor& input) {
  const auto normalised = torch::group_norm(input, options_.num_groups, /*weight=*/{},
                                            /*bias=*/{}, options_.eps);
  return affine ? affine->forward(normalised) : normalised;
}

}  // namespace dpsgd::models
