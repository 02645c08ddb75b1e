#include "dpsgd/audit/clopper_pearson.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dpsgd/audit/one_run_bound.hpp"

namespace dpsgd::audit {

double clopper_pearson_upper(std::int64_t k, std::int64_t n, double level) {
  if (!(n > 0 && k >= 0 && k <= n) || !(level > 0.0 && level < 1.0)) {
    throw std::invalid_argument("Clopper-Pearson: need 0 <= k <= n, n > 0, level in (0, 1)");
  }
  if (k == n) return 1.0;
  // P[Binomial(n, p) <= k] = 1 - P[B >= k + 1] falls from 1 to 0 as p grows.
  double lo = static_cast<double>(k) / static_cast<double>(n);
  double hi = 1.0;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double cdf = 1.0 - binomial_upper_tail(n, mid, k + 1);
    (cdf > level ? lo : hi) = mid;
  }
  return hi;
}

double clopper_pearson_epsilon_lower_bound(const ThresholdTest& test, double delta,
                                           double confidence) {
  if (test.negatives == 0 || test.positives == 0) return 0.0;
  const double level = (1.0 - confidence) / 2.0;
  const double fpr = clopper_pearson_upper(test.false_positives, test.negatives, level);
  const double fnr = clopper_pearson_upper(test.false_negatives, test.positives, level);
  double best = 0.0;
  const auto side = [&](double a, double b) {
    // log((1 - delta - a) / b), defined when both parts are positive.
    if (1.0 - delta - a > 0.0 && b > 0.0) best = std::max(best, std::log((1.0 - delta - a) / b));
  };
  side(fnr, fpr);
  side(fpr, fnr);
  return best;
}

}  // namespace dpsgd::audit
