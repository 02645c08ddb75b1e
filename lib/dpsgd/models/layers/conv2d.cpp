#include "dpsgd/models/layers/conv2d.hpp"

#include <cmath>
#include <stdexcept>

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

Conv2dImpl::Conv2dImpl(const Conv2dOptions& options) : options_(options) {
  if (options.groups <= 0 || options.in_channels % options.groups != 0 ||
      options.out_channels % options.groups != 0) {
    throw std::invalid_argument("Conv2d: channels must be divisible by groups");
  }
  const std::int64_t fan_in =
      options.in_channels / options.groups * options.kernel[0] * options.kernel[1];
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  weight = register_parameter(
      "weight", torch::empty({options.out_channels, options.in_channels / options.groups,
                              options.kernel[0], options.kernel[1]})
                    .uniform_(-bound, bound));
  if (options.bias) {
    bias = register_parameter("bias", torch::empty({options.out_channels}).uniform_(-bound, bound));
  }
}

torch::Tensor Conv2dImpl::plain_forward(const torch::Tensor& input) {
  const auto& o = options_;
  return torch::conv2d(input, weight, bias, {o.stride[0], o.stride[1]},
                       {o.padding[0], o.padding[1]}, {o.dilation[0], o.dilation[1]}, o.groups);
}

std::vector<torch::Tensor> Conv2dImpl::layer_parameters() {
  if (bias.defined()) return {weight, bias};
  return {weight};
}

std::string Conv2dImpl::describe() const {
  const auto& o = options_;
  return util::cat("Conv2d(", o.in_channels, ", ", o.out_channels, ", k=", o.kernel[0], "x",
                   o.kernel[1], ", s=", o.stride[0], ", p=", o.padding[0],
                   o.groups > 1 ? util::cat(", groups=", o.groups) : std::string(), ")");
}

}  // namespace dpsgd::models
