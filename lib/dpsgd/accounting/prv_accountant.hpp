#pragma once
// PRV accountant: numerical composition of privacy loss random variables for the
// Poisson-subsampled Gaussian mechanism (DP-SGD), after Gopi, Lee, Wutschitz 2021,
// "Numerical Composition of Differential Privacy" (NeurIPS; arXiv:2106.02848), with the
// algorithm, defaults and reported quantities of Opacus' PRVAccountant.
//
// Mechanism and neighbouring relation. Each recorded step is the sampled Gaussian
// mechanism: every example joins the batch independently with probability q (Poisson
// sampling), per-example gradients are clipped to L2 norm C and summed (so the sum's L2
// sensitivity is C), and N(0, (sigma*C)^2 I) noise is added. Neighbouring datasets
// differ by adding or removing one example. The reported bounds hold for the adaptive composition
// of all recorded steps; they are only valid if the loader really samples Poisson with rate q and
// every step that touched the data was recorded.
//
// Privacy loss random variable. Up to rotation the one-step pair of output
// distributions is P = (1-q) N(0, sigma^2) + q N(1, sigma^2) and Q = N(0, sigma^2); the
// PRV is Y = log(P(X) / Q(X)) with X ~ P (Gopi et al., App. B, Props. B.1 and B.4 as
// cited by Opacus):
//   Y = log(1 - q + q exp((2X - 1) / (2 sigma^2))),  supported on (log(1-q), inf),
//   F_Y(t) = (1-q) Phi((z sigma^2 + 1/2) / sigma) + q Phi((z sigma^2 - 1/2) / sigma),
//   z = log((e^t - (1-q)) / q).
// This is the "remove" direction (P has the extra example), the one Opacus and the
// authors' prv_accountant compose. For the subsampled Gaussian it gave the larger
// epsilon at every point of tests/reference/prv_reference.json (the reference script also
// composes the "add" direction, Q against P), but this code does not rely on a proof
// that it dominates for every (q, sigma, steps, delta).
// Composition: the PRV of a composition is the sum of the PRVs, so
// delta(eps) = E[(1 - e^{eps - Y_total})_+] with Y_total = sum over all steps.
//
// Numerics (Gopi et al., Sec. 5, with the domain of their Remark 5.6; the choices of
// Opacus 1.6 and the authors' prv_accountant code):
//  * domain: L = max(L_max, eps_error) + 3, where L_max is the larger of the RDP
//    epsilon of the whole history at delta_error / 4 and each segment's one-step RDP
//    epsilon at delta_error / (8 * total steps) (RDP: rdp_accountant.hpp, improved
//    conversion, default orders);
//  * mesh h = eps_error / sqrt(n * log(12 / delta_error) / 2), n = total steps; the grid
//    is t_i = (i - K) h, i = 0..N-1, K = ceil(L / h), N = 2K + 2;
//  * each (sigma, q) PRV is truncated to [t_min, t_max] (renormalised), discretised as
//    the probability of each cell [t_i - h/2, t_i + h/2], and its grid shifted so that
//    the discrete mean equals the continuous truncated mean (adaptive Gauss-Kronrod);
//  * composition: the discrete PRVs are convolved by FFT (a radix-2 real FFT written
//    here; period the next power of two >= N, where Opacus uses period N: the mass that
//    wraps around is negligible by the choice of L), all segments in one product of
//    spectra, each raised to its step count; identical (sigma, q) pairs are grouped
//    wherever they occur in the history (composition commutes);
//  * epsilon: delta(t_i) = sum_{j >= i} p_j (1 - e^{t_i - t_j}) is scanned down from the
//    top of the grid; at the first cell with delta(t_i) <= target, eps solves
//    sum_{j >= i} p_j (1 - e^{eps - t_j}) = target exactly:
//      estimate = eps(delta),
//      upper    = eps(delta - delta_error) + eps_error,
//      lower    = eps(delta + delta_error) - eps_error,
//    each clamped at 0 ((eps < 0, delta)-DP implies (0, delta)-DP).
//    Gopi et al.'s error analysis (Sec. 5): the true epsilon(delta) lies in [lower, upper]
//    for this mesh and domain. Opacus returns
//    `upper` from get_epsilon(); here EpsilonReport::epsilon is the ESTIMATE and the
//    guarantee is EpsilonReport::epsilon_upper.
//  Like Opacus' code (its compute_safe_domain_size carries a FIXME to this effect), the
//  domain size follows the authors' implementation, which is argued for eps_error < 1.
//
// Floating point. The bracket covers discretisation, not rounding. Composing n steps in
// double precision multiplies the spectrum's rounding (~1e-17) by n, which leaves an
// absolute error of order n * 1e-16 in delta: epsilon moves by ~1e-7 at n = 1e5, delta
// 1e-5, but by ~1e-4 at n = 1e5, delta 1e-8 (measured against a long double
// composition; Opacus' double-precision code has the same floor). Both are far inside
// eps_error = 0.01. A delta below N * 1.08e-19 + delta_error is refused (Opacus' test).
//
// Agreement with Opacus 1.6 (tests/reference/prv_reference.json): 6 significant digits or
// better where n * 1e-16 / delta is below 1e-6. Opacus' own truncated mean (scipy.quad at
// its default tolerance) carries up to ~2e-10, which its epsilon inherits times n (2e-6
// at n = 1e4); corrected for that (the reference records both means), the two agree to
// ~1e-7. This code's cell masses and means agree with 40-50 digit mpmath to ~1e-15
// relative and ~1e-19 absolute.
//
// Defaults as in Opacus: eps_error = 0.01, delta_error = delta / 1000.
// Special cases: nothing recorded (or only zero steps) gives 0 for all three numbers;
// a segment with sigma = 0 gives +inf for all three; sigma so small that the RDP bound
// used for the domain overflows (sigma^2 below ~1e-308) also gives +inf (the true
// epsilon is then beyond the double range). When the grid would exceed max_grid_points
// (tiny sigma, or very many steps, e.g. 1e6 at q 0.01) the mesh is coarsened to fit and
// eps_error grows with it: the widened value is reported in PrvEpsilon::eps_error and
// used in the bounds.
// Refusals (AccountingError, accounting_error.hpp): the answer is checked, not trusted.
// The composed mean must equal the sum of the per-step truncated means, as it does for a
// discrete composition whose mass stayed on the grid; mass that left it wraps around the
// FFT's period and moves that mean (1e9 steps at q 0.01, sigma 1: the forced mesh is wider
// than one step's loss distribution and the composition ran off the grid, which printed
// epsilon 0 where RDP says 92526). An epsilon below the grid (impossible for a true PRV,
// as E[e^{-Y}] <= 1 gives delta(t) >= 1 - e^t) or one that is not a number is refused too.
// Cost: per query, for each distinct (sigma, q) pair one discretisation (N CDF
// evaluations) and one FFT, plus one inverse FFT: ~0.5-1 s for 1e5 steps at delta 1e-5
// (N = 2.7M) on one core; peak memory ~40 bytes per grid point.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd/accounting/accountant.hpp"

namespace dpsgd::accounting {

struct PrvOptions {
  double eps_error = 0.01;          ///< Opacus' default
  double delta_error_ratio = 1e-3;  ///< delta_error = ratio * delta (Opacus: delta / 1000)
  /// Cap on N (memory ~40 bytes per point). 1e5 steps need N = 2.7M at delta 1e-5
  /// (3.8M at delta 1e-8); beyond the cap the mesh is coarsened (see above).
  std::int64_t max_grid_points = std::int64_t{1} << 23;
};

/// An epsilon with its bracket, and the grid that produced it.
struct PrvEpsilon {
  double lower = 0.0;      ///< eps(delta + delta_error) - eps_error, clamped at 0
  double estimate = 0.0;   ///< eps(delta)
  double upper = 0.0;      ///< eps(delta - delta_error) + eps_error: the guarantee
  double eps_error = 0.0;  ///< the eps_error used (the requested one unless coarsened)
  double delta_error = 0.0;
  double mesh = 0.0;             ///< grid spacing h
  std::int64_t grid_points = 0;  ///< N (0 when no FFT was needed)
};

/// CDF of the one-step PRV (remove direction, see above) of the Poisson-subsampled
/// Gaussian with rate q and noise multiplier sigma > 0, and its complement 1 - CDF,
/// each to full relative accuracy in its own tail. Exposed for tests.
[[nodiscard]] double prv_cdf(double q, double sigma, double t);
[[nodiscard]] double prv_sf(double q, double sigma, double t);

/// Epsilon of the composition of `segments` at `delta` from scratch (no cache).
/// Throws std::invalid_argument for bad segments (sigma < 0 or not finite, q outside
/// (0, 1], steps < 0), delta outside (0, 1), eps_error not finite or <= 0, delta_error
/// outside (0, delta), max_grid_points < 16, or a delta so small that floating point
/// rounding of the grid would dominate it (N * 1.08e-19 >= delta - delta_error, Opacus'
/// test). Throws AccountingError where the history is past the accountant's range (above).
[[nodiscard]] PrvEpsilon prv_epsilon(const std::vector<MechanismSegment>& segments, double delta,
                                     double eps_error, double delta_error,
                                     std::int64_t max_grid_points = PrvOptions{}.max_grid_points);

class PrvAccountant final : public Accountant {
 public:
  PrvAccountant();
  /// Throws std::invalid_argument for eps_error <= 0, delta_error_ratio outside (0, 1)
  /// or max_grid_points < 16.
  explicit PrvAccountant(PrvOptions options);

  /// Validates (sigma >= 0 and finite, q in (0, 1], steps >= 0; std::invalid_argument
  /// otherwise), then appends a segment or extends the last one if sigma and q are
  /// identical. steps == 0 records nothing. O(1) after the first step of a (sigma, q)
  /// pair, whose one-step RDP curve (for the domain size) is computed once and cached.
  void step(double sigma, double q, std::int64_t steps = 1) override;
  /// estimate / lower / upper with the constructor's eps_error and delta_error_ratio.
  /// has_bounds is set; best_order is empty. Cost: one FFT composition on N points (N ~ 2.7M for
  /// 1e5 steps at delta 1e-5); the composed distribution of the last query is cached, so a second
  /// query with the same history and errors costs O(N) without FFTs.
  [[nodiscard]] EpsilonReport epsilon(double delta) const override;
  /// Explicit errors (absolute delta_error), as Opacus' get_epsilon(delta, eps_error,
  /// delta_error). Same validation as prv_epsilon().
  [[nodiscard]] PrvEpsilon epsilon_bounds(double delta, double eps_error, double delta_error) const;
  [[nodiscard]] std::string name() const override { return "prv"; }
  [[nodiscard]] const std::vector<MechanismSegment>& history() const override { return history_; }
  [[nodiscard]] const PrvOptions& options() const { return options_; }

 private:
  struct Cache;  // the last composed distribution and FFT twiddles (prv_accountant.cpp)

  struct PairUse {
    double sigma = 0.0;
    double q = 0.0;
    std::int64_t steps = 0;
    std::vector<double> rdp_curve;  // one-step RDP at default_rdp_orders()
  };

  PrvOptions options_;
  std::vector<MechanismSegment> history_;
  std::vector<PairUse> uses_;  // distinct (sigma, q) pairs, in order of first use
  std::map<std::pair<double, double>, std::size_t> use_index_;
  // Guarded by its own mutex (epsilon() may be called concurrently); shared by copies,
  // which is safe as entries are keyed by the full composition they hold.
  std::shared_ptr<Cache> cache_;
};

}  // namespace dpsgd::accounting
