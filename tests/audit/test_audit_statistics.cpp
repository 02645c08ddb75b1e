// The audit statistics (lib/dpsgd/audit) against values computed independently
// with scipy (tests/reference/audit_reference.json, made by
// scripts/gen_audit_reference.py), their edge cases, and the guess ranking.
#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/audit/canary_guesses.hpp"
#include "dpsgd/audit/clopper_pearson.hpp"
#include "dpsgd/audit/one_run_bound.hpp"

using namespace dpsgd::audit;

namespace {

nlohmann::json reference() {
  const std::string path = std::string(DPSGD_SOURCE_DIR) + "/tests/reference/audit_reference.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("one-run p-values equal scipy's", "[audit]") {
  const auto ref = reference();
  REQUIRE(ref["one_run_p_value"].size() >= 8);
  for (const auto& row : ref["one_run_p_value"]) {
    const double p = one_run_p_value(row["m"], row["r"], row["v"], row["eps"], row["delta"]);
    INFO(row.dump());
    REQUIRE(p == Approx(row["p"].get<double>()).epsilon(1e-9).margin(1e-15));
  }
}

TEST_CASE("one-run lower bounds equal scipy's, edge cases included", "[audit]") {
  const auto ref = reference();
  REQUIRE(ref["one_run_lower_bound"].size() >= 8);
  for (const auto& row : ref["one_run_lower_bound"]) {
    const double eps =
        one_run_epsilon_lower_bound(row["m"], row["r"], row["v"], row["delta"], row["confidence"]);
    INFO(row.dump());
    REQUIRE(eps == Approx(row["eps"].get<double>()).margin(1e-7));
  }
  SECTION("no guesses and no correct guesses give 0") {
    REQUIRE(one_run_epsilon_lower_bound(1000, 0, 0, 1e-5, 0.95) == 0.0);
    REQUIRE(one_run_epsilon_lower_bound(1000, 100, 0, 1e-5, 0.95) == 0.0);
    REQUIRE(one_run_epsilon_lower_bound(1000, 100, 50, 1e-5, 0.95) == 0.0);  // chance level
  }
  SECTION("all correct: the bound grows with r and falls with confidence") {
    const double a = one_run_epsilon_lower_bound(1000, 100, 100, 1e-5, 0.95);
    const double b = one_run_epsilon_lower_bound(1000, 1000, 1000, 1e-5, 0.95);
    const double c = one_run_epsilon_lower_bound(1000, 1000, 1000, 1e-5, 0.99);
    REQUIRE(a < b);
    REQUIRE(c < b);
    // All correct at eps: p = q^r, so the bound solves r log(1 + e^-eps) = log(1/0.05)
    // when delta = 0.
    const double exact = -std::log(std::exp(std::log(20.0) / 1000.0) - 1.0);
    REQUIRE(one_run_epsilon_lower_bound(1000, 1000, 1000, 0.0, 0.95) == Approx(exact).margin(1e-7));
  }
  REQUIRE_THROWS_AS(one_run_p_value(10, 11, 1, 1.0, 0.0), std::invalid_argument);
  REQUIRE_THROWS_AS(one_run_epsilon_lower_bound(10, 5, 5, 0.0, 1.0), std::invalid_argument);
}

TEST_CASE("Clopper-Pearson upper bounds equal scipy's beta quantiles", "[audit]") {
  const auto ref = reference();
  for (const auto& row : ref["clopper_pearson_upper"]) {
    INFO(row.dump());
    REQUIRE(clopper_pearson_upper(row["k"], row["n"], row["level"]) ==
            Approx(row["upper"].get<double>()).margin(1e-9));
  }
  SECTION("the membership bound: perfect separation is large, chance is 0") {
    const ThresholdTest perfect{0, 500, 0, 500};
    const ThresholdTest chance{250, 500, 250, 500};
    REQUIRE(clopper_pearson_epsilon_lower_bound(perfect, 1e-5, 0.95) > 4.0);
    REQUIRE(clopper_pearson_epsilon_lower_bound(chance, 1e-5, 0.95) == 0.0);
  }
}

TEST_CASE("guesses: balanced and IN-only rules, Bonferroni over every pair tried", "[audit]") {
  REQUIRE(default_guess_counts(1000) == std::vector<std::int64_t>{20, 50, 100, 200, 500, 1000});
  REQUIRE(default_guess_counts(3) == std::vector<std::int64_t>{1, 3});
  // 200 canaries, included = even index; scores separate them perfectly.
  std::vector<double> scores;
  std::vector<bool> included;
  for (int i = 0; i < 200; ++i) {
    included.push_back(i % 2 == 0);
    scores.push_back(i % 2 == 0 ? 1.0 + i : -1.0 - i);
  }
  const auto b = audit_bounds(scores, included, 1e-5, 0.95, {20, 200});
  REQUIRE(b.included == 100);
  REQUIRE(b.tried.size() == 4);  // balanced 20, 200; IN only 20, 200
  REQUIRE(b.tried[0].correct == 20);
  REQUIRE(b.tried[1].correct == 200);
  REQUIRE(b.tried[2].in_only);
  REQUIRE(b.tried[2].correct == 20);
  REQUIRE(b.tried[3].correct == 100);  // the top 200 hold the 100 included
  REQUIRE(b.best.guesses == 200);
  REQUIRE_FALSE(b.best.in_only);
  // Each pair at confidence 1 - 0.05 / 4.
  REQUIRE(b.best.one_run == Approx(one_run_epsilon_lower_bound(200, 200, 200, 1e-5, 0.9875)));
  REQUIRE(b.clopper_pearson > 2.0);
  // Scores that carry no information: the guesses are right about half the time.
  std::vector<double> flat(200, 0.0);
  const auto none = audit_bounds(flat, included, 1e-5, 0.95, {200});
  REQUIRE(none.best.correct == 100);
  REQUIRE(none.best.one_run == 0.0);
  REQUIRE_THROWS_AS(audit_bounds(flat, included, 1e-5, 0.95, {201}), std::invalid_argument);
}
