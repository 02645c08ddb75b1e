#pragma once
// Renyi-DP accountant for the Poisson-subsampled Gaussian mechanism (DP-SGD).
//
// Guarantee. Each recorded step is the sampled Gaussian mechanism (SGM): every
// example joins the batch independently with probability q (Poisson sampling), the
// per-example gradients are clipped to L2 norm C, summed, and N(0, (sigma*C)^2 I)
// noise is added to the sum. Neighbouring datasets differ by adding or removing one
// example (so the sum's L2 sensitivity is C). The reported (epsilon, delta) holds for
// the adaptive composition of all recorded steps. It is only valid if the loader
// really samples Poisson with rate q (not shuffle-and-partition, not fixed-size
// batches) and every step that touched the data was recorded.
//
// RDP of one SGM step at order alpha > 1 (Mironov, Talwar, Zhang 2019, "Renyi
// Differential Privacy of the Sampled Gaussian Mechanism", Sec. 3.3):
//   R(alpha) = log(A_alpha) / (alpha - 1),
//   A_alpha  = E_{z ~ N(0, sigma^2)} [ (1 - q + q * exp((2z - 1) / (2 sigma^2)))^alpha ].
// Integer alpha (binomial expansion, exact, finite sum):
//   A_alpha = sum_{k=0..alpha} C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2)).
// Fractional alpha (two generalised-binomial series split at z0, exact; the form
// TF Privacy and Opacus evaluate):
//   z0 = sigma^2 log(1/q - 1) + 1/2,
//   A_alpha = sum_{k>=0} C(alpha,k) (T0_k + T1_k), with j = alpha - k and
//   T0_k = q^k (1-q)^j e^{(k^2-k)/(2 sigma^2)} erfc((k - z0) / (sqrt2 sigma)) / 2,
//   T1_k = q^j (1-q)^k e^{(j^2-j)/(2 sigma^2)} erfc((z0 - j) / (sqrt2 sigma)) / 2,
//   where C(alpha,k) is the generalised binomial coefficient, whose
//   sign alternates for k > alpha. The series is summed with signs (not in absolute
//   value, as Google dp_accounting does, which over-estimates by up to a few percent
//   for q >= 0.1), with compensated summation, until a term falls below e^-30 relative
//   to log A, stopping after a positive term so that the truncated sum is an upper
//   bound (the tail alternates and decreases). As log A_alpha is convex in alpha with
//   log A_1 = 0, the chord between the neighbouring integer orders bounds it from
//   above; it caps the series and replaces it where log A < 1e-10 (huge sigma), where
//   the series cannot resolve log A from rounding.
// Special cases: q = 1 gives R = alpha / (2 sigma^2) exactly; sigma = 0 gives +inf.
// Composition (Mironov 2017, "Renyi Differential Privacy", Prop. 1): RDP curves add
// over steps and segments.
//
// Conversion to (epsilon, delta): at each order one of the two formulas below (each
// owned by one function, classic_rdp_to_epsilon() and improved_rdp_to_epsilon(), which
// every caller uses), minimised over the orders by rdp_to_epsilon():
//   kClassic  (Mironov 2017, Prop. 3): eps = R(alpha) + log(1/delta) / (alpha - 1).
//   kImproved (Balle, Barthe, Gaboardi, Hsu, Sato 2020, "Hypothesis testing
//             interpretations and Renyi differential privacy", Thm 21; the formula of
//             Opacus' get_privacy_spent and Google dp_accounting):
//             eps = R(alpha) + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1).
// A negative minimum is reported as 0 ((eps<0, delta)-DP implies (0, delta)-DP).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd/accounting/accountant.hpp"

namespace dpsgd::accounting {

enum class RdpConversion {
  kClassic,   ///< Mironov 2017, Prop. 3
  kImproved,  ///< Balle et al. 2020, Thm 21 (Opacus / dp_accounting)
};

/// "classic" / "improved".
[[nodiscard]] std::string to_string(RdpConversion conversion);
/// Parses "classic" or "improved"; throws std::invalid_argument otherwise.
[[nodiscard]] RdpConversion parse_rdp_conversion(const std::string& name);

/// Opacus' default orders: 1 + x/10 for x = 1..99, then the integers 12..63 (151 orders).
[[nodiscard]] std::vector<double> default_rdp_orders();

/// RDP at order `alpha` (> 1, may be +inf) of ONE step of the Poisson-subsampled
/// Gaussian mechanism with sampling rate q in (0, 1] and noise multiplier sigma >= 0.
/// Never NaN: +inf when sigma == 0 (or so small that sigma^2 underflows). Orders above
/// 1e6 get the valid but looser bound log(1 - q + q e^{alpha(alpha-1)/(2 sigma^2)}) / (alpha-1).
/// Throws std::invalid_argument for q outside (0, 1], sigma < 0, alpha <= 1 or NaN.
[[nodiscard]] double compute_rdp(double q, double sigma, double alpha);

/// compute_rdp() at every order (one step).
[[nodiscard]] std::vector<double> compute_rdp_curve(double q, double sigma,
                                                    const std::vector<double>& orders);

/// Classic RDP-to-DP conversion (Mironov 2017, "Renyi Differential Privacy", Prop. 3):
/// an (alpha, rdp)-RDP mechanism is (rdp + log(1/delta) / (alpha - 1), delta)-DP.
/// `log_delta` is log(delta); alpha = +inf gives rdp (the limit). Not clamped at 0.
[[nodiscard]] double classic_rdp_to_epsilon(double rdp, double alpha, double log_delta);

/// Improved RDP-to-DP conversion (Balle, Barthe, Gaboardi, Hsu, Sato 2020, Thm 21; as
/// Opacus and dp_accounting): eps = rdp + log((alpha - 1) / alpha)
/// - (log(delta) + log(alpha)) / (alpha - 1). `log_delta` is log(delta); alpha = +inf
/// gives rdp (the limit). Never larger than the classic value. Not clamped at 0.
[[nodiscard]] double improved_rdp_to_epsilon(double rdp, double alpha, double log_delta);

/// The best (epsilon, order) for a composed RDP curve. epsilon = +inf and
/// best_order = 0 when the curve is +inf at every order. Throws std::invalid_argument
/// for delta outside (0, 1) or mismatched lengths.
struct RdpEpsilon {
  double epsilon = 0.0;
  double best_order = 0.0;
};
[[nodiscard]] RdpEpsilon rdp_to_epsilon(const std::vector<double>& orders,
                                        const std::vector<double>& rdp, double delta,
                                        RdpConversion conversion);

/// Epsilon of `steps` steps with (sigma, q) at `delta`, from scratch (no cache).
/// Noise calibration for a target epsilon: calibrate_sigma() (calibration.hpp) with an
/// RdpAccountant.
[[nodiscard]] RdpEpsilon rdp_epsilon(double sigma, double q, std::int64_t steps, double delta,
                                     RdpConversion conversion = RdpConversion::kImproved,
                                     const std::vector<double>& orders = default_rdp_orders());

class RdpAccountant final : public Accountant {
 public:
  /// Uses default_rdp_orders().
  explicit RdpAccountant(RdpConversion conversion = RdpConversion::kImproved);
  /// `orders` must be non-empty, each > 1 (may be +inf); throws std::invalid_argument.
  RdpAccountant(RdpConversion conversion, std::vector<double> orders);

  /// Validates (sigma >= 0, q in (0, 1], steps >= 0; std::invalid_argument otherwise),
  /// then appends a segment or extends the last one if sigma and q are identical.
  /// steps == 0 records nothing. The RDP curve of a (sigma, q) pair is computed on its
  /// first use (milliseconds) and cached, so repeated steps cost O(1).
  void step(double sigma, double q, std::int64_t steps = 1) override;
  /// O(#distinct (sigma, q) pairs * #orders): microseconds. delta in (0, 1). The report
  /// carries best_order (0 when nothing is recorded or epsilon is +inf) and rdp_conversion.
  [[nodiscard]] EpsilonReport epsilon(double delta) const override;
  [[nodiscard]] std::string name() const override { return "rdp"; }
  [[nodiscard]] const std::vector<MechanismSegment>& history() const override { return history_; }

  [[nodiscard]] RdpConversion conversion() const { return conversion_; }
  [[nodiscard]] const std::vector<double>& orders() const { return orders_; }
  /// The composed RDP curve of everything recorded (sum over segments of steps * curve).
  [[nodiscard]] std::vector<double> rdp() const;

 private:
  struct CurveUse {
    std::vector<double> curve;  // one-step RDP per order
    std::int64_t steps = 0;     // total steps recorded with this (sigma, q)
  };

  RdpConversion conversion_;
  std::vector<double> orders_;
  std::vector<MechanismSegment> history_;
  std::vector<CurveUse> uses_;
  std::map<std::pair<double, double>, std::size_t> use_index_;  // (sigma, q) -> uses_
};

}  // namespace dpsgd::accounting
