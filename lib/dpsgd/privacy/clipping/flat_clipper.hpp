#pragma once
// Flat clipping (Abadi et al. 2016): each example's whole-model gradient g_i is
// scaled by c_i = min(1, C / ||g_i||_2), so ||c_i g_i|| <= C. Adding or removing
// one example changes the clipped sum by one term of norm <= C: sensitivity C.
// (Floating-point rounding can leave ||c_i g_i|| above C by a few ulps; the
// tests bound it at relative 1e-12 in float64.)
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/clipping/clipping_mode.hpp"

namespace dpsgd::privacy {

class FlatClipper final : public Clipper {
 public:
  /// Throws std::invalid_argument unless max_grad_norm > 0 and finite.
  explicit FlatClipper(double max_grad_norm);
  [[nodiscard]] torch::Tensor factors(const torch::Tensor& sq_norms) const override;
  [[nodiscard]] double sensitivity() const override { return max_grad_norm_; }
  [[nodiscard]] std::string name() const override { return "flat"; }

 private:
  double max_grad_norm_;
};

/// YAML mode `flat`: keys max_grad_norm.
ClippingMode flat_clipping_mode();

}  // namespace dpsgd::privacy
