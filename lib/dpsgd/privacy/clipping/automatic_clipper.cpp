#include "dpsgd/privacy/clipping/automatic_clipper.hpp"

#include <cmath>
#include <stdexcept>

namespace dpsgd::privacy {

AutomaticClipper::AutomaticClipper(AutomaticVariant variant, double gamma, NormGroups groups,
                                   std::vector<double> thresholds)
    : variant_(variant),
      gamma_(gamma),
      groups_(std::move(groups)),
      thresholds_(std::move(thresholds)),
      sensitivity_(root_sum_squares(thresholds_)) {
  if (variant_ == AutomaticVariant::kS && (!(gamma_ > 0.0) || !std::isfinite(gamma_))) {
    throw std::invalid_argument("AUTO-S needs a finite gamma > 0");
  }
  if (variant_ == AutomaticVariant::kV && gamma_ != 0.0) {
    throw std::invalid_argument("AUTO-V has no gamma (it is AUTO-S with gamma = 0)");
  }
  if (static_cast<std::int64_t>(thresholds_.size()) != groups_.size()) {
    throw std::invalid_argument("automatic clipping: one threshold per group is needed");
  }
}

torch::Tensor AutomaticClipper::factors(const torch::Tensor& sq_norms) const {
  const auto norms = groups_.group(sq_norms).sqrt();  // (B, G)
  const auto c = torch::tensor(thresholds_, norms.options());
  if (variant_ == AutomaticVariant::kS) return groups_.expand(c / (norms + gamma_));
  // AUTO-V: C/||g||; a zero gradient has no direction, and 0 keeps it at 0
  // (C/0 = inf would turn 0 * inf into NaN).
  return groups_.expand(torch::where(norms > 0, c / norms, torch::zeros_like(norms)));
}

}  // namespace dpsgd::privacy
