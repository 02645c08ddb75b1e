#include "dpsgd/privacy/clipping/norm_groups.hpp"

#include <cmath>
#include <stdexcept>

#include "dpsgd/util/logging.hpp"

namespace dpsgd::privacy {

NormGroups::NormGroups(std::vector<std::int64_t> param_group, std::int64_t num_groups, bool whole)
    : param_group_(std::move(param_group)), num_groups_(num_groups), whole_(whole) {}

NormGroups NormGroups::whole_model(std::size_t num_params) {
  return NormGroups(std::vector<std::int64_t>(num_params, 0), 1, true);
}

NormGroups NormGroups::per_layer(const PrivateModel& model) {
  std::vector<std::int64_t> groups;
  groups.reserve(model.param_layer.size());
  for (auto l : model.param_layer) groups.push_back(static_cast<std::int64_t>(l));
  return NormGroups(std::move(groups), static_cast<std::int64_t>(model.layers.size()), false);
}

torch::Tensor NormGroups::group(const torch::Tensor& sq_norms) const {
  if (whole_) return sq_norms.sum(1, /*keepdim=*/true);
  const auto index = torch::tensor(param_group_, sq_norms.options().dtype(torch::kLong));
  return torch::zeros({sq_norms.size(0), num_groups_}, sq_norms.options())
      .index_add_(1, index, sq_norms);
}

torch::Tensor NormGroups::expand(const torch::Tensor& group_factors) const {
  const auto p = static_cast<std::int64_t>(param_group_.size());
  if (whole_) return group_factors.expand({group_factors.size(0), p});
  const auto index = torch::tensor(param_group_, group_factors.options().dtype(torch::kLong));
  return group_factors.index_select(1, index);
}

std::vector<double> group_thresholds(double max_grad_norm,
                                     const std::vector<double>& explicit_thresholds,
                                     std::int64_t num_groups) {
  if (!explicit_thresholds.empty()) {
    if (static_cast<std::int64_t>(explicit_thresholds.size()) != num_groups) {
      throw std::invalid_argument(util::cat("expected one threshold per layer: the model has ",
                                            num_groups, " layers, the list has ",
                                            explicit_thresholds.size()));
    }
    for (double c : explicit_thresholds) {
      if (!(c > 0.0) || !std::isfinite(c)) {
        throw std::invalid_argument("every per-layer threshold must be finite and > 0");
      }
    }
    return explicit_thresholds;
  }
  if (!(max_grad_norm > 0.0) || !std::isfinite(max_grad_norm)) {
    throw std::invalid_argument("max_grad_norm must be finite and > 0");
  }
  return std::vector<double>(static_cast<std::size_t>(num_groups),
                             max_grad_norm / std::sqrt(static_cast<double>(num_groups)));
}

double root_sum_squares(const std::vector<double>& values) {
  double s = 0.0;
  for (double v : values) s += v * v;
  return std::sqrt(s);
}

}  // namespace dpsgd::privacy
