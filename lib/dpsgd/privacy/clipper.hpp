#pragma once
// Clipping of per-example gradients.
//
// A clipper turns per-example, per-parameter squared gradient norms into
// per-example, per-parameter factors c_ik, so the clipped sum is
// S = sum_i (c_ik * grad_ik)_k. Its sensitivity() is the bound on ||S(D) - S(D')||_2
// for datasets D, D' differing by adding or removing one example, which the
// Gaussian noise is scaled by (noise std = sigma * sensitivity). Each clipper
// proves its bound in its header.
#include <string>

#include <torch/torch.h>

namespace dpsgd::privacy {

class Clipper {
 public:
  virtual ~Clipper() = default;
  /// Factors (B, P) from per-parameter squared norms (B, P); entries in [0, 1]
  /// for norm-bounding clippers.
  [[nodiscard]] virtual torch::Tensor factors(const torch::Tensor& sq_norms) const = 0;
  /// L2 sensitivity of the clipped sum under add/remove-one neighbouring datasets.
  [[nodiscard]] virtual double sensitivity() const = 0;
  [[nodiscard]] virtual std::string name() const = 0;
};

}  // namespace dpsgd::privacy
