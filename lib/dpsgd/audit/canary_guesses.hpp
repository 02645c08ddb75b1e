#pragma once
// From canary scores to audit bounds. The auditor ranks the m canaries by score
// (higher: more likely included) and abstains on all but r of them (Steinke,
// Nasr, Jagielski 2023, Sec. 5: abstaining on the uncertain middle is what gives
// the one-run audit its power). Two guess rules per r:
//  - balanced: IN for the top ceil(r/2), OUT for the bottom floor(r/2);
//  - IN only: IN for the top r. An included canary that was never sampled looks
//    excluded, so OUT guesses are the weaker ones, above all in short runs.
// Every (r, rule) pair is tried at confidence 1 - (1 - c) / (pairs tried)
// (Bonferroni), so the largest of their bounds holds at confidence c. The
// Clopper-Pearson comparison (clopper_pearson.hpp) uses the threshold test "IN
// for the top k, OUT for the rest", k the pair's IN count, corrected alike.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpsgd::audit {

/// The r tried for m canaries: m/50, m/20, m/10, m/5, m/2 and m, at least 1,
/// without repeats.
[[nodiscard]] std::vector<std::int64_t> default_guess_counts(std::int64_t m);

struct GuessBound {
  std::int64_t guesses = 0;  ///< r
  bool in_only = false;      ///< the rule: IN only, or balanced
  std::int64_t correct = 0;  ///< v
  double one_run = 0.0;      ///< the one-run lower bound at the corrected confidence
  double clopper_pearson = 0.0;
};

struct AuditBounds {
  std::int64_t canaries = 0;  ///< m
  std::int64_t included = 0;
  double delta = 0.0;
  double confidence = 0.0;        ///< the overall confidence c
  std::vector<GuessBound> tried;  ///< each r balanced, then each r IN only
  GuessBound best;                ///< the row with the largest one-run bound (first among equals)
  double clopper_pearson = 0.0;   ///< the largest Clopper-Pearson figure over the rows
  [[nodiscard]] nlohmann::json to_json() const;
};

/// Throws std::invalid_argument when the sizes differ, m is 0, or a guess
/// count is outside [1, m].
[[nodiscard]] AuditBounds audit_bounds(const std::vector<double>& scores,
                                       const std::vector<bool>& included, double delta,
                                       double confidence,
                                       const std::vector<std::int64_t>& guess_counts);

}  // namespace dpsgd::audit
