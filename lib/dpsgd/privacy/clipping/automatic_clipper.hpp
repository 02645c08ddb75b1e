#pragma once
// Automatic clipping (Bu, Wang, Zha, Karypis, NeurIPS 2023, "Automatic clipping:
// differentially private deep learning made easier and stronger"):
//   AUTO-S  c_i = C / (||g_i|| + gamma)     (gamma > 0, default 0.01)
//   AUTO-V  c_i = C / ||g_i||               (gamma = 0; a zero gradient stays 0)
// Every example's gradient is normalised instead of clipped, so
// ||c_i g_i|| = C ||g_i|| / (||g_i|| + gamma) < C: sensitivity C under
// add/remove-one. The per-layer variant normalises each layer separately with
// threshold C_l, giving ||c_i g_i|| < sqrt(sum_l C_l^2) =: Delta, and the noise
// is scaled by that Delta; with the default split C_l = C / sqrt(L), Delta = C.
// (Normalising every layer to C instead of C / sqrt(L) while adding noise for C
// understates the sensitivity sqrt(L)-fold: the error this file exists to avoid.)
//
// Learning rate: the privatised gradient is C * (sum_i g_i/(||g_i||+gamma) + N(0,
// sigma^2)) / (q N); C only scales it. For SGD, (lr, C) and (lr * C, 1) give the
// same iterates, so tune lr * C (Bu et al. set C = 1 and tune lr alone); adaptive
// optimizers (Adam) are invariant to C up to their eps.
#include <vector>

#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/clipping/clipping_mode.hpp"
#include "dpsgd/privacy/clipping/norm_groups.hpp"

namespace dpsgd::privacy {

enum class AutomaticVariant { kS, kV };

class AutomaticClipper final : public Clipper {
 public:
  /// Throws std::invalid_argument unless gamma > 0 for AUTO-S and gamma == 0 for AUTO-V.
  AutomaticClipper(AutomaticVariant variant, double gamma, NormGroups groups,
                   std::vector<double> thresholds);
  [[nodiscard]] torch::Tensor factors(const torch::Tensor& sq_norms) const override;
  [[nodiscard]] double sensitivity() const override { return sensitivity_; }
  [[nodiscard]] std::string name() const override { return "automatic"; }

 private:
  AutomaticVariant variant_;
  double gamma_;
  NormGroups groups_;
  std::vector<double> thresholds_;
  double sensitivity_;
};

/// YAML mode `automatic`: keys max_grad_norm, per_layer, layer_max_grad_norms,
/// variant (s | v), gamma (AUTO-S only).
ClippingMode automatic_clipping_mode();

}  // namespace dpsgd::privacy
