#include "dpsgd/models/layers/conv_transpose2d.hpp"

#include <cmath>
#include <stdexcept>

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

ConvTranspose2dImpl::ConvTranspose2dImpl(const ConvTranspose2dOptions& options)
    : options_(options) {
  const auto& o = options;
  if (o.groups <= 0 || o.in_channels % o.groups != 0 || o.out_channels % o.groups != 0) {
    throw std::invalid_argument("ConvTranspose2d: channels must be divisible by groups");
  }
  for (int k = 0; k < 2; ++k) {
    if (o.output_padding[k] < 0 ||
        (o.output_padding[k] >= o.stride[k] && o.output_padding[k] >= o.dilation[k])) {
      // Larger values would add output rows that no input position reaches.
      throw std::invalid_argument(
          "ConvTranspose2d: output_padding must be smaller than stride or dilation");
    }
  }
  // PyTorch's default initialisation: uniform in +-1/sqrt(fan_in), where fan_in is
  // computed from the weight's dim 1, which for a transposed convolution is
  // out_channels / groups (the weight is stored as the adjoint Conv2d's).
  const std::int64_t fan_in = o.out_channels / o.groups * o.kernel[0] * o.kernel[1];
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  weight = register_parameter(
      "weight", torch::empty({o.in_channels, o.out_channels / o.groups, o.kernel[0], o.kernel[1]})
                    .uniform_(-bound, bound));
  if (o.bias) {
    bias = register_parameter("bias", torch::empty({o.out_channels}).uniform_(-bound, bound));
  }
}

torch::Tensor ConvTranspose2dImpl::plain_forward(const torch::Tensor& input) {
  const auto& o = options_;
  return torch::conv_transpose2d(
      input, weight, bias, {o.stride[0], o.stride[1]}, {o.padding[0], o.padding[1]},
      {o.output_padding[0], o.output_padding[1]}, o.groups, {o.dilation[0], o.dilation[1]});
}

std::vector<torch::Tensor> ConvTranspose2dImpl::layer_parameters() {
  if (bias.defined()) return {weight, bias};
  return {weight};
}

std::string ConvTranspose2dImpl::describe() const {
  const auto& o = options_;
  return util::cat("ConvTranspose2d(", o.in_channels, ", ", o.out_channels, ", k=", o.kernel[0],
                   "x", o.kernel[1], ", s=", o.stride[0], ", p=", o.padding[0],
                   o.output_padding[0] != 0 || o.output_padding[1] != 0
                       ? util::cat(", op=", o.output_padding[0])
                       : std::string(),
                   o.dilation[0] > 1 ? util::cat(", d=", o.dilation[0]) : std::string(),
                   o.groups > 1 ? util::cat(", groups=", o.groups) : std::string(), ")");
}

}  // namespace dpsgd::models
