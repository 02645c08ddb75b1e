#include "dpsgd/models/layers/channel_affine.hpp"

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

ChannelAffineImpl::ChannelAffineImpl(std::int64_t num_channels) {
  weight = register_parameter("weight", torch::ones({num_channels}));
  bias = register_parameter("bias", torch::zeros({num_channels}));
}

torch::Tensor channel_view(const torch::Tensor& per_channel, std::int64_t dims) {
  std::vector<std::int64_t> shape(static_cast<std::size_t>(dims - 1), 1);
  shape[0] = per_channel.size(0);
  return per_channel.view(shape);
}

torch::Tensor ChannelAffineImpl::plain_forward(const torch::Tensor& input) {
  return torch::addcmul(channel_view(bias, input.dim()), input, channel_view(weight, input.dim()));
}

std::vector<torch::Tensor> ChannelAffineImpl::layer_parameters() { return {weight, bias}; }

std::string ChannelAffineImpl::describe() const {
  return util::cat("ChannelAffine(", weight.size(0), ")");
}

}  // namespace dpsgd::models
