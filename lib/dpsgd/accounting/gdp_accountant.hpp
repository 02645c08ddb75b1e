#pragma once
// Gaussian-DP accountant via the central limit theorem: an APPROXIMATION, NOT A
// GUARANTEE. Its epsilon can be BELOW the true epsilon of the mechanism (Gopi, Lee,
// Wutschitz 2021, "Numerical Composition of Differential Privacy", show the CLT
// underestimating epsilon for DP-SGD settings; Opacus' own
// GaussianAccountant warns that it "can underestimate privacy expenditure"). Use it to
// compare with published GDP numbers, never to certify a run: use "prv" (its
// epsilon_upper) or "rdp" for that.
//
// Mechanism and neighbouring relation: as for the other accountants, each recorded
// step is the Poisson-subsampled Gaussian mechanism (every example joins the batch
// independently with probability q; per-example gradients clipped to L2 norm C and
// summed, so the sum's L2 sensitivity is C; noise N(0, (sigma C)^2 I)), and neighbouring
// datasets differ by adding or removing one example.
//
// The approximation (Bu, Dong, Long, Su 2020, "Deep Learning with Gaussian Differential
// Privacy", Harvard Data Science Review, its Poisson-sampling CLT; built on the central
// limit theorem for composition of Dong, Roth, Su 2022, "Gaussian Differential Privacy",
// JRSS-B, Sec. 3): T
// steps at (sigma, q) are asymptotically (T -> inf, q sqrt(T) -> const) mu-GDP with
//   mu = q * sqrt(T * (exp(1 / sigma^2) - 1)),
// and segments compose by adding mu^2:  mu_total = sqrt(sum_s mu_s^2).
// mu-GDP gives (epsilon, delta)-DP for every epsilon >= 0 with (Dong-Roth-Su, Cor. 2.13)
//   delta(epsilon) = Phi(-epsilon/mu + mu/2) - e^epsilon Phi(-epsilon/mu - mu/2),
// and the reported epsilon is the root of delta(epsilon) = delta (bracketing and
// bisection to full double precision), or 0 when delta(0) <= delta. This is the
// formula of Opacus' GaussianAccountant with poisson=True (opacus/accountants/gdp.py,
// analysis/gdp.py) and TF Privacy's gdp_accountant; unlike Opacus it also composes
// histories whose sigma or q change, by the mu^2 sum above.
//
// Special cases: nothing recorded gives 0; sigma = 0 gives +inf; sigma so small that
// exp(1/sigma^2) overflows a double also gives +inf (the epsilon is then beyond the
// double range anyway); huge sigma gives epsilon -> 0.
// EpsilonReport: epsilon = epsilon_lower = epsilon_upper = the CLT value (there is no
// error bound to report), `approximation` set, best_order empty.
#include <cstdint>
#include <string>
#include <vector>

#include "dpsgd/accounting/accountant.hpp"

namespace dpsgd::accounting {

/// mu of `steps` Poisson-subsampled Gaussian steps (CLT): q sqrt(steps (e^{1/sigma^2} - 1)).
/// +inf when sigma == 0. Throws std::invalid_argument for sigma < 0 / NaN / inf, q outside
/// (0, 1] or steps < 0.
[[nodiscard]] double gdp_mu(double sigma, double q, std::int64_t steps);

/// delta(epsilon) of mu-GDP, evaluated in log space (no overflow for large epsilon or mu).
/// Throws std::invalid_argument for mu < 0 / NaN or epsilon < 0 / NaN.
[[nodiscard]] double gdp_delta(double mu, double epsilon);

/// The epsilon >= 0 with gdp_delta(mu, epsilon) = delta (0 if gdp_delta(mu, 0) <= delta;
/// +inf if mu is +inf). Throws std::invalid_argument for mu < 0 / NaN or delta outside (0, 1).
[[nodiscard]] double gdp_epsilon(double mu, double delta);

/// CLT-approximate GDP accountant: an APPROXIMATION, not a guarantee (see above).
class ApproximateGdpAccountant final : public Accountant {
 public:
  /// Validates like the other accountants (std::invalid_argument), then appends a
  /// segment or extends the last one if sigma and q are identical; steps == 0 records
  /// nothing. O(1).
  void step(double sigma, double q, std::int64_t steps = 1) override;
  /// O(1) + a ~100-iteration root search: microseconds. delta in (0, 1).
  [[nodiscard]] EpsilonReport epsilon(double delta) const override;
  [[nodiscard]] std::string name() const override { return "gdp"; }
  [[nodiscard]] const std::vector<MechanismSegment>& history() const override { return history_; }
  /// mu of everything recorded: sqrt(sum over segments of mu_s^2).
  [[nodiscard]] double mu() const;

 private:
  std::vector<MechanismSegment> history_;
  double mu_squared_ = 0.0;
};

}  // namespace dpsgd::accounting
