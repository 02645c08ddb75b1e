#include "dpsgd/heads/bias_column.hpp"

namespace dpsgd::heads {

torch::Tensor with_bias_column(const torch::Tensor& x, bool fit_bias) {
  if (!fit_bias) {
    return x;
  }
  return torch::cat({x, torch::ones({x.size(0), 1}, x.options())}, 1);
}

LinearHead split_bias(const torch::Tensor& augmented_weight, bool fit_bias,
                      const torch::TensorOptions& options) {
  const auto w = augmented_weight.to(options);
  if (!fit_bias) {
    return {w.contiguous(), torch::zeros({w.size(0)}, options)};
  }
  const auto d = w.size(1) - 1;
  return {w.narrow(1, 0, d).contiguous(), w.select(1, d).contiguous()};
}

}  // namespace dpsgd::heads
