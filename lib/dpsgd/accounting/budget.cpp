#include "dpsgd/accounting/budget.hpp"

#include <limits>

#include "dpsgd/accounting/accounting_error.hpp"

namespace dpsgd::accounting {
namespace {

double epsilon_after(const AccountantMaker& make, double sigma, double q, std::int64_t steps,
                     double delta) {
  if (steps == 0) return 0.0;
  auto accountant = make();
  accountant->step(sigma, q, steps);
  try {
    return reported_epsilon(accountant->epsilon(delta));
  } catch (const AccountingError&) {
    // An epsilon the accountant cannot certify is not within any budget.
    return std::numeric_limits<double>::infinity();
  }
}

}  // namespace

std::int64_t steps_within_budget(const AccountantMaker& make, double sigma, double q,
                                 std::int64_t max_steps, double delta, double max_epsilon) {
  if (epsilon_after(make, sigma, q, max_steps, delta) <= max_epsilon) return max_steps;
  std::int64_t good = 0;         // epsilon(good) <= max_epsilon
  std::int64_t bad = max_steps;  // epsilon(bad) > max_epsilon
  while (bad - good > 1) {
    const std::int64_t mid = good + (bad - good) / 2;
    if (epsilon_after(make, sigma, q, mid, delta) <= max_epsilon) {
      good = mid;
    } else {
      bad = mid;
    }
  }
  return good;
}

}  // namespace dpsgd::accounting
