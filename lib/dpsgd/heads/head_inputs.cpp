#include "dpsgd/heads/head_inputs.hpp"

#include <stdexcept>

#include "dpsgd/heads/bias_column.hpp"

namespace dpsgd::heads {

HeadInputs prepare_head_inputs(const torch::Tensor& features, const torch::Tensor& labels,
                               std::int64_t num_classes, bool fit_bias) {
  if (features.dim() != 2 || labels.dim() != 1 || labels.size(0) != features.size(0)) {
    throw std::invalid_argument("private head: features must be N x D and labels N");
  }
  if (num_classes < 1) {
    throw std::invalid_argument("private head: num_classes must be >= 1");
  }
  auto y = labels.to(features.device(), torch::kLong);
  if (y.numel() > 0 &&
      (y.min().item<std::int64_t>() < 0 || y.max().item<std::int64_t>() >= num_classes)) {
    throw std::invalid_argument("private head: labels must lie in [0, num_classes)");
  }
  const auto dtype = features.is_floating_point() ? features.scalar_type() : torch::kFloat32;
  const auto x = with_bias_column(features.to(torch::kFloat64), fit_bias);
  return {x, y, features.options().dtype(dtype)};
}

}  // namespace dpsgd::heads
