#include "dpsgd/features/group_normalisation.hpp"

#include <stdexcept>
#include <string>

namespace dpsgd::features {

torch::Tensor group_normalise(const torch::Tensor& features, std::int64_t groups, double eps) {
  if (features.dim() < 2) {
    throw std::invalid_argument("group_normalise: features must be N x C x ..., got " +
                                std::to_string(features.dim()) + " dimensions");
  }
  const auto channels = features.size(1);
  if (groups < 1 || channels % groups != 0) {
    throw std::invalid_argument("group_normalise: " + std::to_string(groups) +
                                " groups do not divide " + std::to_string(channels) +
                                " feature channels; pick a divisor");
  }
  const auto n = features.size(0);
  const auto grouped = features.reshape({n, groups, -1}).to(torch::kFloat64);
  const auto mean = grouped.mean(-1, /*keepdim=*/true);
  const auto var = grouped.var(-1, /*unbiased=*/false, /*keepdim=*/true);
  return ((grouped - mean) / torch::sqrt(var + eps))
      .to(features.scalar_type())
      .reshape(features.sizes());
}

}  // namespace dpsgd::features
