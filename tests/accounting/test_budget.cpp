#include <catch2/catch.hpp>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/accounting/budget.hpp"

using dpsgd::accounting::AccountantMaker;

namespace {

double eps(const AccountantMaker& make, double sigma, double q, std::int64_t steps) {
  auto a = make();
  a->step(sigma, q, steps);
  return dpsgd::accounting::reported_epsilon(a->epsilon(1e-5));
}

}  // namespace

TEST_CASE("the budget's step limit is the last step at or under max_epsilon", "[accounting]") {
  const auto& factory = dpsgd::accounting::accountant_registry().get("rdp");
  const AccountantMaker make = [&] { return factory({}); };
  const double sigma = 1.1;
  const double q = 0.01;
  for (double budget : {1.0, 2.5, 8.0}) {
    INFO("budget " << budget);
    const auto n = dpsgd::accounting::steps_within_budget(make, sigma, q, 100000, 1e-5, budget);
    REQUIRE(n > 0);
    REQUIRE(n < 100000);
    REQUIRE(eps(make, sigma, q, n) <= budget);
    REQUIRE(eps(make, sigma, q, n + 1) > budget);
  }
  // A budget above the whole run's epsilon keeps every step; one below a single
  // step's epsilon allows none.
  REQUIRE(dpsgd::accounting::steps_within_budget(make, sigma, q, 50, 1e-5, 100.0) == 50);
  REQUIRE(dpsgd::accounting::steps_within_budget(make, sigma, q, 50, 1e-5, 1e-9) == 0);
}
