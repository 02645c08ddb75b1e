#include "dpsgd/accounting/calibration.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "dpsgd/accounting/pipeline.hpp"

namespace dpsgd::accounting {

EpsilonReport epsilon_for(const AccountantMaker& make, double sigma, double q, std::int64_t steps,
                          double delta) {
  return epsilon_of(make, {MechanismSegment{sigma, q, steps}}, delta);
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
  // One segment is the simplest pipeline: its multiplier is the scale itself.
  return calibrate_pipeline(
      make, target_epsilon, delta,
      [q, steps](double sigma) {
        return std::vector<MechanismSegment>{{sigma, q, steps}};
      },
      tolerance);
}

}  // namespace dpsgd::accounting
