#include "dpsgd/models/objectives/dice.hpp"

#include <limits>

namespace dpsgd::models {

torch::Tensor confusion_matrices(const torch::Tensor& predicted, const torch::Tensor& target,
                                 std::int64_t num_classes) {
  const std::int64_t b = predicted.size(0);
  const std::int64_t k = num_classes;
  const auto offset = torch::arange(b, predicted.options()).view({b, 1}) * (k * k);
  const auto code = offset + predicted.reshape({b, -1}) * k + target.reshape({b, -1});
  // scatter_add rather than bincount: bincount reads the code range back to the
  // host (two syncs per call on CUDA), and this runs at every training step.
  const auto flat = code.reshape({-1});
  return torch::zeros({b * k * k}, predicted.options())
      .scatter_add_(0, flat, torch::ones_like(flat))
      .view({b, k, k});
}

torch::Tensor dice_per_class(const torch::Tensor& confusion) {
  const auto c = confusion.to(torch::kFloat64);
  const auto inter = c.diagonal(0, 1, 2);  // B x K
  const auto pred = c.sum(2);              // row sums: predicted as k
  const auto truth = c.sum(1);             // column sums: truly k
  const auto denom = pred + truth;
  return torch::where(denom > 0, 2.0 * inter / denom.clamp_min(1.0),
                      torch::full_like(denom, std::numeric_limits<double>::quiet_NaN()));
}

torch::Tensor mean_dice(const torch::Tensor& per_class, const std::vector<std::int64_t>& classes) {
  const auto index = torch::tensor(classes, torch::kLong).to(per_class.device());
  const auto chosen = per_class.index_select(1, index);
  const auto defined = chosen.isfinite();
  const auto count = defined.sum(1).to(torch::kFloat64);
  const auto total = torch::where(defined, chosen, torch::zeros_like(chosen)).sum(1);
  return torch::where(count > 0, total / count.clamp_min(1.0), torch::ones_like(total));
}

}  // namespace dpsgd::models
