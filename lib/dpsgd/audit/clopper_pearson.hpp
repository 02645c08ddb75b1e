#pragma once
// The multi-run audit bound of Jagielski, Ullman and Oprea 2020 ("Auditing
// differentially private machine learning: how private is private SGD?",
// NeurIPS), reported beside the one-run bound for comparison. A membership
// test with false-positive rate FPR and false-negative rate FNR against an
// (eps, delta)-DP mechanism satisfies (Kairouz, Oh, Viswanath 2015)
//   1 - delta - FNR <= e^eps FPR   and   1 - delta - FPR <= e^eps FNR,
// so with Clopper-Pearson upper confidence bounds on both rates
//   eps >= max( log((1 - delta - FNR_hi) / FPR_hi), log((1 - delta - FPR_hi) / FNR_hi) ).
// Each rate's bound is taken at (1 - confidence) / 2 (union bound). The rates
// are estimated as if every canary were an independent trial; in one training
// run they are not (the canaries share the run), which is exactly the gap the
// one-run analysis closes: this figure is for comparison only.
#include <cstdint>

namespace dpsgd::audit {

/// The one-sided Clopper-Pearson upper bound on a binomial proportion: the p
/// with P[Binomial(n, p) <= k] = level (1 when k == n), to 1e-12 by bisection.
/// Throws std::invalid_argument unless 0 <= k <= n, n > 0 and level in (0, 1).
[[nodiscard]] double clopper_pearson_upper(std::int64_t k, std::int64_t n, double level);

struct ThresholdTest {
  std::int64_t false_positives = 0;  ///< excluded canaries guessed IN
  std::int64_t negatives = 0;        ///< excluded canaries
  std::int64_t false_negatives = 0;  ///< included canaries guessed OUT
  std::int64_t positives = 0;        ///< included canaries
};

/// The bound above (0 when it is negative or a rate has no trials).
[[nodiscard]] double clopper_pearson_epsilon_lower_bound(const ThresholdTest& test, double delta,
                                                         double confidence);

}  // namespace dpsgd::audit
