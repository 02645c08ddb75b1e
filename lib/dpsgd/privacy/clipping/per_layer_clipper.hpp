#pragma once
// Per-layer clipping (McMahan et al. 2018, "A general approach to adding
// differential privacy to iterative training procedures"; Opacus' per_layer
// mode): layer l of example i is scaled by c_il = min(1, C_l / ||g_il||_2), so
// every layer's clipped gradient has norm <= C_l and the example's whole clipped
// gradient has norm <= sqrt(sum_l C_l^2). Adding or removing one example changes
// the clipped sum by one such term: sensitivity Delta = sqrt(sum_l C_l^2), and the
// noise is N(0, sigma^2 Delta^2) on every coordinate. With the default equal
// split C_l = C / sqrt(L), Delta = C, so a per-layer run and a flat run with the
// same C and sigma have the same noise and the same epsilon.
#include <vector>

#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/clipping/clipping_mode.hpp"
#include "dpsgd/privacy/clipping/norm_groups.hpp"

namespace dpsgd::privacy {

class PerLayerClipper final : public Clipper {
 public:
  /// `thresholds` has one entry per group (see group_thresholds()).
  PerLayerClipper(NormGroups groups, std::vector<double> thresholds);
  [[nodiscard]] torch::Tensor factors(const torch::Tensor& sq_norms) const override;
  [[nodiscard]] double sensitivity() const override { return sensitivity_; }
  [[nodiscard]] std::string name() const override { return "per_layer"; }

 private:
  NormGroups groups_;
  std::vector<double> thresholds_;
  double sensitivity_;
};

/// YAML mode `per_layer`: keys max_grad_norm, layer_max_grad_norms.
ClippingMode per_layer_clipping_mode();

}  // namespace dpsgd::privacy
