#include "dpsgd/accounting/pipeline.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "dpsgd/accounting/accounting_error.hpp"

namespace dpsgd::accounting {
namespace {

// Largest noise scale calibration tries before calling a target unreachable.
constexpr double kMaxSigma = 1e6;
// Below this the scale is taken as 0 (a target met with almost no noise).
constexpr double kMinSigma = 1e-6;

bool has_steps(const std::vector<MechanismSegment>& segments) {
  for (const auto& segment : segments) {
    if (segment.steps > 0) return true;
  }
  return false;
}

}  // namespace

EpsilonReport epsilon_of(const AccountantMaker& make, const std::vector<MechanismSegment>& segments,
                         double delta) {
  auto accountant = make();
  for (const auto& segment : segments) {
    if (segment.steps > 0) {
      accountant->step(segment.noise_multiplier, segment.sample_rate, segment.steps);
    }
  }
  return accountant->epsilon(delta);
}

double share_noise_multiplier(double sigma, double share) {
  if (!(sigma >= 0) || !std::isfinite(sigma)) {
    throw std::invalid_argument("noise multiplier must be finite and >= 0, got " +
                                std::to_string(sigma));
  }
  if (!(share > 0 && share <= 1)) {
    throw std::invalid_argument("a budget share must be in (0, 1], got " + std::to_string(share));
  }
  // alpha / (2 s^2) = share * alpha / (2 sigma^2): the piece spends `share` of the RDP
  // (and of the squared GDP mu) of one Gaussian mechanism with multiplier sigma.
  return sigma / std::sqrt(share);
}

double calibrate_pipeline(const AccountantMaker& make, double target_epsilon, double delta,
                          const PipelineOfSigma& pipeline, double tolerance) {
  if (!(target_epsilon > 0) || !std::isfinite(target_epsilon)) {
    throw std::invalid_argument("target epsilon must be a finite number > 0");
  }
  if (!(tolerance > 0 && tolerance < 1)) throw std::invalid_argument("tolerance must be in (0, 1)");
  if (!(delta > 0 && delta < 1)) throw std::invalid_argument("delta must be in (0, 1)");
  if (!has_steps(pipeline(1.0))) return 0.0;
  // A sigma the accountant refuses (AccountingError) or answers with NaN counts as
  // missing the target: the result is always a sigma whose epsilon was computed and
  // is <= target, never one whose epsilon is unknown.
  std::string refusal;
  const auto eps = [&](double sigma) {
    try {
      const double e = reported_epsilon(epsilon_of(make, pipeline(sigma), delta));
      return std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
    } catch (const AccountingError& e) {
      refusal = e.what();
      return std::numeric_limits<double>::infinity();
    }
  };
  double hi = 1.0;
  while (eps(hi) > target_epsilon) {
    hi *= 2.0;
    if (hi > kMaxSigma) {
      throw std::invalid_argument(
          "target epsilon " + std::to_string(target_epsilon) +
          " is unreachable with noise multipliers up to 1e6" +
          (refusal.empty() ? std::string() : " (the accountant refused: " + refusal + ")"));
    }
  }
  double lo = hi / 2.0;
  while (lo > kMinSigma && eps(lo) <= target_epsilon) {
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
