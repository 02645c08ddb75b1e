#include "dpsgd/audit/canary_guesses.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "dpsgd/audit/clopper_pearson.hpp"
#include "dpsgd/audit/one_run_bound.hpp"

namespace dpsgd::audit {

std::vector<std::int64_t> default_guess_counts(std::int64_t m) {
  std::vector<std::int64_t> out;
  for (const std::int64_t divisor : {50, 20, 10, 5, 2, 1}) {
    const std::int64_t r = std::max<std::int64_t>(1, m / divisor);
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

namespace {

// Canary indices from the highest score to the lowest (ties: lower index first).
std::vector<std::size_t> ranking(const std::vector<double>& scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  return order;
}

GuessBound bound_for(const std::vector<std::size_t>& order, const std::vector<bool>& included,
                     std::int64_t r, bool in_only, double delta, double confidence) {
  const auto m = static_cast<std::int64_t>(order.size());
  const std::int64_t in = in_only ? r : (r + 1) / 2;
  const std::int64_t out = r - in;
  GuessBound g;
  g.guesses = r;
  g.in_only = in_only;
  ThresholdTest test;
  for (std::int64_t k = 0; k < m; ++k) {
    const bool member = included[order[static_cast<std::size_t>(k)]];
    if (k < in && member) ++g.correct;
    if (k >= m - out && !member) ++g.correct;
    (member ? test.positives : test.negatives) += 1;
    if (k < in && !member) ++test.false_positives;
    if (k >= in && member) ++test.false_negatives;
  }
  g.one_run = one_run_epsilon_lower_bound(m, r, g.correct, delta, confidence);
  g.clopper_pearson = clopper_pearson_epsilon_lower_bound(test, delta, confidence);
  return g;
}

}  // namespace

AuditBounds audit_bounds(const std::vector<double>& scores, const std::vector<bool>& included,
                         double delta, double confidence,
                         const std::vector<std::int64_t>& guess_counts) {
  const auto m = static_cast<std::int64_t>(scores.size());
  if (scores.size() != included.size() || m == 0 || guess_counts.empty()) {
    throw std::invalid_argument("audit: need one score and one membership bit per canary");
  }
  AuditBounds b;
  b.canaries = m;
  b.included = std::count(included.begin(), included.end(), true);
  b.delta = delta;
  b.confidence = confidence;
  const double each = 1.0 - (1.0 - confidence) / static_cast<double>(2 * guess_counts.size());
  const auto order = ranking(scores);
  for (const bool in_only : {false, true}) {
    for (const auto r : guess_counts) {
      if (r < 1 || r > m) throw std::invalid_argument("audit: a guess count is outside [1, m]");
      b.tried.push_back(bound_for(order, included, r, in_only, delta, each));
      if (b.tried.size() == 1 || b.tried.back().one_run > b.best.one_run) b.best = b.tried.back();
      b.clopper_pearson = std::max(b.clopper_pearson, b.tried.back().clopper_pearson);
    }
  }
  return b;
}

nlohmann::json AuditBounds::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& g : tried) {
    rows.push_back({{"r", g.guesses},
                    {"rule", g.in_only ? "in_only" : "balanced"},
                    {"v", g.correct},
                    {"one_run_lower_bound", g.one_run},
                    {"clopper_pearson_lower_bound", g.clopper_pearson}});
  }
  return {{"m", canaries},
          {"included", included},
          {"r", best.guesses},
          {"v", best.correct},
          {"rule", best.in_only ? "in_only" : "balanced"},
          {"confidence", confidence},
          {"delta", delta},
          {"epsilon_lower_bound", best.one_run},
          {"clopper_pearson_lower_bound", clopper_pearson},
          {"guess_counts_tried", rows},
          {"bonferroni_confidence_each",
           1.0 - (1.0 - confidence) / static_cast<double>(std::max<std::size_t>(1, tried.size()))}};
}

}  // namespace dpsgd::audit
