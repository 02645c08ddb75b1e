#include "dpsgd/models/layers/ws_conv2d.hpp"

#include <cmath>
#include <stdexcept>

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

WsConv2dImpl::WsConv2dImpl(const Conv2dOptions& options, double eps)
    : options_(options), eps_(eps) {
  if (options.groups <= 0 || options.in_channels % options.groups != 0 ||
      options.out_channels % options.groups != 0) {
    throw std::invalid_argument("WsConv2d: channels must be divisible by groups");
  }
  const std::int64_t fan_in =
      options.in_channels / options.groups * options.kernel[0] * options.kernel[1];
  if (fan_in < 2) {
    throw std::invalid_argument("WsConv2d: a fan-in of 1 standardises every weight to 0");
  }
  // He initialisation; the standardisation removes the scale anyway, but a
  // well-spread start keeps var(w_o) far from eps.
  const double std = std::sqrt(2.0 / static_cast<double>(fan_in));
  weight = register_parameter(
      "weight", torch::randn({options.out_channels, options.in_channels / options.groups,
                              options.kernel[0], options.kernel[1]}) *
                    std);
  if (options.bias) bias = register_parameter("bias", torch::zeros({options.out_channels}));
}

torch::Tensor WsConv2dImpl::standardized_weight() const {
  const auto rows = weight.flatten(1);
  const auto mean = rows.mean(1, /*keepdim=*/true);
  const auto var = rows.var(1, /*unbiased=*/false, /*keepdim=*/true);
  return ((rows - mean) / (var + eps_).sqrt()).view_as(weight);
}

torch::Tensor WsConv2dImpl::plain_forward(const torch::Tensor& input) {
  const auto& o = options_;
  return torch::conv2d(input, standardized_weight(), bias, {o.stride[0], o.stride[1]},
                       {o.padding[0], o.padding[1]}, {o.dilation[0], o.dilation[1]}, o.groups);
}

std::vector<torch::Tensor> WsConv2dImpl::layer_parameters() {
  if (bias.defined()) return {weight, bias};
  return {weight};
}

std::string WsConv2dImpl::describe() const {
  const auto& o = options_;
  return util::cat("WsConv2d(", o.in_channels, ", ", o.out_channels, ", k=", o.kernel[0], "x",
                   o.kernel[1], ", s=", o.stride[0], ", p=", o.padding[0],
                   o.groups > 1 ? util::cat(", groups=", o.groups) : std::string(), ")");
}

}  // namespace dpsgd::models
