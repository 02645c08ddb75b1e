#pragma once
// The privacy budget guard (privacy.max_epsilon): how many steps of the
// Poisson-subsampled Gaussian mechanism (sigma, q) fit under a budget
// (max_epsilon, delta) for add/remove-one neighbours. A run stops before the
// step that would pass the budget: the epsilon after the last step it takes is
// at most max_epsilon, by the same accountant and the same reported (upper)
// epsilon the run prints. Epsilon grows with the number of steps for every
// accountant here (composition never lowers the privacy loss), so the limit is
// found by bisection over the step count. The limit counts all steps of the
// run, so a resumed run can never exceed it either.
#include <cstdint>

#include "dpsgd/accounting/calibration.hpp"

namespace dpsgd::accounting {

/// The largest n in [0, max_steps] whose epsilon at `delta` is <= max_epsilon. A
/// step count the accountant refuses to answer for (AccountingError, e.g. PRV past
/// its range) counts as over the budget.
std::int64_t steps_within_budget(const AccountantMaker& make, double sigma, double q,
                                 std::int64_t max_steps, double delta, double max_epsilon);

}  // namespace dpsgd::accounting
