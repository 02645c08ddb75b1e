#pragma once
// How a clipping method groups a model's parameter tensors: one group for the
// whole model (flat clipping) or one group per layer (per-layer clipping, where a
// layer's weight and bias share a threshold, as in McMahan et al. 2018 and
// Opacus' per-layer mode). Converts per-parameter squared norms (B, P) into
// per-group squared norms (B, G), and per-group factors back to (B, P).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/privacy/private_model.hpp"

namespace dpsgd::privacy {

class NormGroups {
 public:
  /// One group over every parameter.
  static NormGroups whole_model(std::size_t num_params);
  /// One group per tapped layer of `model`.
  static NormGroups per_layer(const PrivateModel& model);

  [[nodiscard]] std::int64_t size() const { return num_groups_; }
  /// (B, P) -> (B, G): sums of the squared norms of each group's parameters.
  [[nodiscard]] torch::Tensor group(const torch::Tensor& sq_norms) const;
  /// (B, G) -> (B, P): each parameter gets its group's factor.
  [[nodiscard]] torch::Tensor expand(const torch::Tensor& group_factors) const;

 private:
  NormGroups(std::vector<std::int64_t> param_group, std::int64_t num_groups, bool whole);
  std::vector<std::int64_t> param_group_;
  std::int64_t num_groups_;
  bool whole_;
};

/// Per-group thresholds: `explicit_thresholds` when given (one per group, each
/// > 0), else the equal split C/sqrt(G), which keeps the total sensitivity
/// sqrt(sum_g C_g^2) = C. Throws std::invalid_argument on a size mismatch.
std::vector<double> group_thresholds(double max_grad_norm,
                                     const std::vector<double>& explicit_thresholds,
                                     std::int64_t num_groups);

/// sqrt(sum_g C_g^2): the sensitivity of a sum of per-group bounded terms.
double root_sum_squares(const std::vector<double>& values);

}  // namespace dpsgd::privacy
