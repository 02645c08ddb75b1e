#pragma once
// Noise calibration for any accountant: the smallest noise multiplier sigma whose
// epsilon after `steps` Poisson-subsampled Gaussian steps at rate q is at most
// the target at `delta` (mechanism, sensitivity, neighbouring relation and sampling
// assumption: those of accountant.hpp). Epsilon is monotone decreasing in sigma for every
// accountant here, so bisection applies. Tolerance is relative in sigma: the
// result sigma* satisfies epsilon(sigma*) <= target (the upper bound, for
// accountants that report bounds: see reported_epsilon()) and sigma* <= (1 + tol) * sigma_min.
// The bisection itself is calibrate_pipeline() (pipeline.hpp), of which this is the
// one-segment case.
#include <cstdint>

#include "dpsgd/accounting/accountant.hpp"

namespace dpsgd::accounting {

/// Throws std::invalid_argument for bad inputs or an unreachable target. A sigma the
/// accountant cannot answer for (AccountingError) is treated as missing the target;
/// when no sigma up to 1e6 reaches it, the message carries the refusal.
double calibrate_sigma(const AccountantMaker& make, double target_epsilon, double q,
                       std::int64_t steps, double delta, double tolerance = 1e-4);

/// Epsilon of `steps` steps (sigma, q) at delta under a fresh accountant.
EpsilonReport epsilon_for(const AccountantMaker& make, double sigma, double q, std::int64_t steps,
                          double delta);

}  // namespace dpsgd::accounting
