#include "dpsgd/accounting/calibration.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "dpsgd/accounting/accounting_error.hpp"

namespace dpsgd::accounting {

EpsilonReport epsilon_for(const AccountantMaker& make, double sigma, double q, std::int64_t steps,
                          double delta) {
  auto accountant = make();
  if (steps > 0) accountant->step(sigma, q, steps);
  return accountant->epsilon(delta);
}

double calibrate_sigma(const AccountantMaker& make, double target_epsilon, double q,
                       std::int64_t steps, double delta, double tolerance) {
  if (!(target_epsilon > 0) || !std::isfinite(target_epsilon)) {
    throw std::invalid_argument("target epsilon must be a finite number > 0");
  }
  if (!(tolerance > 0 && tolerance < 1)) throw std::invalid_argument("tolerance must be in (0, 1)");
  if (!(q > 0 && q <= 1)) throw std::invalid_argument("sampling rate q must be in (0, 1]");
  if (steps < 0) throw std::invalid_argument("steps must be >= 0");
  if (!(delta > 0 && delta < 1)) throw std::invalid_argument("delta must be in (0, 1)");
  if (steps == 0) return 0.0;
  // A sigma the accountant refuses (AccountingError) or answers with NaN counts as
  // missing the target: the result is always a sigma whose epsilon was computed and
  // is <= target, never one whose epsilon is unknown.
  std::string refusal;
  const auto eps = [&](double sigma) {
    try {
      const double e = reported_epsilon(epsilon_for(make, sigma, q, steps, delta));
      return std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
    } catch (const AccountingError& e) {
      refusal = e.what();
      return std::numeric_limits<double>::infinity();
    }
  };
  double hi = 1.0;
  while (eps(hi) > target_epsilon) {
    hi *= 2.0;
    if (hi > 1e6) {
      throw std::invalid_argument(
          "target epsilon " + std::to_string(target_epsilon) +
          " is unreachable with noise multipliers up to 1e6" +
          (refusal.empty() ? std::string() : " (the accountant refused: " + refusal + ")"));
    }
  }
  double lo = hi / 2.0;
  while (lo > 1e-6 && eps(lo) <= target_epsilon) {
    hi = lo;
    lo /= 2.0;
  }
  // Invariant: eps(hi) <= target < eps(lo) (or lo is negligible).
  while (hi - lo > tolerance * hi) {
    const double mid = 0.5 * (lo + hi);
    if (eps(mid) <= target_epsilon)
      hi = mid;
    else
      lo = mid;
  }
  return hi;
}

}  // namespace dpsgd::accounting
