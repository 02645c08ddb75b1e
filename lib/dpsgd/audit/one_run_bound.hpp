#pragma once
// The epsilon lower bound of a one-run privacy audit (Steinke, Nasr, Jagielski
// 2023, "Privacy auditing with one (1) training run", NeurIPS; Theorem 3.1 and
// Proposition 5.2, evaluated as in their Appendix D). m canaries are each
// included independently with probability 1/2; after one training run the
// auditor makes r guesses (IN or OUT; the rest abstain), v of them correct.
// If the training is (eps, delta)-DP with respect to adding or removing one
// canary, then for every v
//   P[V >= v] <= P[B >= v] + 2 m delta * max_{i=1..v} P[v - i <= B < v] / i,
//   B ~ Binomial(r, e^eps / (1 + e^eps)),
// so this right-hand side is a p-value for the null hypothesis "(eps, delta)-DP".
// The lower bound at confidence c is the largest eps whose p-value is below
// 1 - c: any smaller eps is rejected with that confidence. It needs no second
// training run; it is valid whatever the guesses, provided the number of
// guesses r was fixed before looking at the scores (or, as here, a fixed list
// of r is tried at confidence 1 - (1 - c) / list size: Bonferroni).
#include <cstdint>

namespace dpsgd::audit {

/// P[B >= v] for B ~ Binomial(r, q); 1 for v <= 0, 0 for v > r.
[[nodiscard]] double binomial_upper_tail(std::int64_t r, double q, std::int64_t v);

/// P[B = k] for B ~ Binomial(r, q), from log-gamma (exact to rounding).
[[nodiscard]] double binomial_pmf(std::int64_t r, double q, std::int64_t k);

/// The p-value above for m canaries, r guesses, v correct, at (eps, delta);
/// clamped to 1. Throws std::invalid_argument unless 0 <= v <= r <= m, eps >= 0
/// and delta in [0, 1].
[[nodiscard]] double one_run_p_value(std::int64_t m, std::int64_t r, std::int64_t v, double eps,
                                     double delta);

/// The largest eps with one_run_p_value(m, r, v, eps, delta) < 1 - confidence,
/// to 1e-9 (bisection; the p-value grows with eps). 0 when even eps = 0 is not
/// rejected (no guesses, or too few correct). confidence in (0, 1).
[[nodiscard]] double one_run_epsilon_lower_bound(std::int64_t m, std::int64_t r, std::int64_t v,
                                                 double delta, double confidence);

}  // namespace dpsgd::audit
