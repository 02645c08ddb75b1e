#pragma once
// The random number of trials K of private hyperparameter tuning (Papernot and
// Steinke 2022, "Hyperparameter tuning with Renyi differential privacy", ICLR,
// Sec. 2). Releasing only the best of K runs costs little more than one run
// when K is random and secret; a fixed K pays (nearly) K-fold composition.
//  - Poisson(mu):   P[K = k] = e^-mu mu^k / k!, k >= 0 (K = 0 releases nothing).
//  - Truncated negative binomial D_{eta,gamma}, eta > -1, gamma in (0, 1), k >= 1:
//      eta != 0: P[K = k] = (1 - gamma)^k / (gamma^-eta - 1) * prod_{l=0}^{k-1} (l + eta) / (l + 1)
//      eta == 0: P[K = k] = (1 - gamma)^k / (k log(1/gamma))   (the logarithmic distribution)
//    E[K] = eta (1 - gamma) / (gamma (1 - gamma^eta)) (eta != 0),
//           (1/gamma - 1) / log(1/gamma)                (eta == 0);
//    eta = 1 is the geometric distribution P[K = k] = gamma (1 - gamma)^(k-1).
#include <cstdint>

#include "dpsgd/util/random_source.hpp"

namespace dpsgd::tuning {

struct TruncatedNegativeBinomial {
  double eta = 1.0;
  double gamma = 0.1;
  /// Throws std::invalid_argument unless eta > -1 and gamma in (0, 1).
  void check() const;
  [[nodiscard]] double pmf(std::int64_t k) const;
  [[nodiscard]] double mean() const;
  /// One draw by inversion of the CDF with a uniform from `source`.
  [[nodiscard]] std::int64_t sample(util::RandomSource& source) const;
};

/// One Poisson(mu) draw by inversion (mu in (0, 700)); throws std::invalid_argument otherwise.
[[nodiscard]] std::int64_t sample_poisson(double mu, util::RandomSource& source);

}  // namespace dpsgd::tuning
