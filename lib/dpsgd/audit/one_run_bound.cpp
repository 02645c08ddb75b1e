#include "dpsgd/audit/one_run_bound.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace dpsgd::audit {

double binomial_pmf(std::int64_t r, double q, std::int64_t k) {
  if (k < 0 || k > r) return 0.0;
  if (q <= 0.0) return k == 0 ? 1.0 : 0.0;
  if (q >= 1.0) return k == r ? 1.0 : 0.0;
  const auto n = static_cast<double>(r);
  const auto j = static_cast<double>(k);
  const double log_choose = std::lgamma(n + 1) - std::lgamma(j + 1) - std::lgamma(n - j + 1);
  return std::exp(log_choose + j * std::log(q) + (n - j) * std::log1p(-q));
}

double binomial_upper_tail(std::int64_t r, double q, std::int64_t v) {
  if (v <= 0) return 1.0;
  if (v > r) return 0.0;
  // Sum the shorter side, so that a tail near 1 is not 1 minus a rounding error
  // and a small tail is summed from its own (small) terms.
  double tail = 0.0;
  if (static_cast<double>(v) >= q * static_cast<double>(r)) {
    for (std::int64_t k = r; k >= v; --k) tail += binomial_pmf(r, q, k);
    return std::min(tail, 1.0);
  }
  for (std::int64_t k = 0; k < v; ++k) tail += binomial_pmf(r, q, k);
  return std::clamp(1.0 - tail, 0.0, 1.0);
}

double one_run_p_value(std::int64_t m, std::int64_t r, std::int64_t v, double eps, double delta) {
  if (!(0 <= v && v <= r && r <= m)) {
    throw std::invalid_argument("one-run audit: need 0 <= v <= r <= m");
  }
  if (!(eps >= 0.0) || !(delta >= 0.0 && delta <= 1.0)) {
    throw std::invalid_argument("one-run audit: need eps >= 0 and delta in [0, 1]");
  }
  // q = e^eps / (1 + e^eps): the accuracy of eps-DP randomised response.
  const double q = 1.0 / (1.0 + std::exp(-eps));
  const double beta = binomial_upper_tail(r, q, v);
  double alpha = 0.0;
  double below = 0.0;  // P[v - i <= B < v]
  for (std::int64_t i = 1; i <= v; ++i) {
    below += binomial_pmf(r, q, v - i);
    alpha = std::max(alpha, below / static_cast<double>(i));
  }
  return std::min(1.0, beta + alpha * delta * 2.0 * static_cast<double>(m));
}

double one_run_epsilon_lower_bound(std::int64_t m, std::int64_t r, std::int64_t v, double delta,
                                   double confidence) {
  if (!(confidence > 0.0 && confidence < 1.0)) {
    throw std::invalid_argument("one-run audit: confidence must be in (0, 1)");
  }
  const double level = 1.0 - confidence;
  if (one_run_p_value(m, r, v, 0.0, delta) >= level) return 0.0;
  double lo = 0.0;  // p(lo) < level
  double hi = 1.0;  // p(hi) >= level
  while (one_run_p_value(m, r, v, hi, delta) < level) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e4) return lo;  // no finite eps is excluded at this resolution
  }
  while (hi - lo > 1e-9) {
    const double mid = 0.5 * (lo + hi);
    (one_run_p_value(m, r, v, mid, delta) < level ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace dpsgd::audit
