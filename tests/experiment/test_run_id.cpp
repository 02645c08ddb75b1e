// Run ids are folder names: two values of one sweep never share one, even when
// they print alike at %g's six digits, and an exact duplicate is refused.
#include <cmath>
#include <string>

#include <catch2/catch.hpp>

#include "dpsgd/experiment/run_id.hpp"
#include "dpsgd/util/error.hpp"

using dpsgd::experiment::make_run_id;
using dpsgd::experiment::make_run_ids;
using Strings = std::vector<std::string>;

TEST_CASE("run ids: short where values differ early, longer only where needed", "[run_id]") {
  CHECK(make_run_ids("sigma", {1.0, 2.0, 0.5}, "k") == Strings{"sigma-1", "sigma-2", "sigma-0.5"});
  CHECK(make_run_ids("eps", {3.0}, "k") == Strings{"eps-3"});
  CHECK(make_run_ids("sigma", {1e-7, 1.0000001e-7, 2.0}, "k") ==
        Strings{"sigma-1e-07", "sigma-1.0000001e-07", "sigma-2"});
  CHECK(make_run_id(false, 0.0) == "nonprivate");
  CHECK(make_run_id(true, 1.1) == "sigma-1.1");
}

TEST_CASE("run ids: neighbouring doubles get 17 digits and stay distinct", "[run_id]") {
  const double a = 0.1;
  const double b = std::nextafter(a, 1.0);
  const auto ids = make_run_ids("sigma", {a, b, 0.3}, "k");
  CHECK(ids[0] != ids[1]);
  CHECK(ids[2] == "sigma-0.3");
  CHECK(std::stod(ids[0].substr(6)) == a);  // exact round trip
  CHECK(std::stod(ids[1].substr(6)) == b);
}

TEST_CASE("run ids: an exact duplicate sweep value is an error naming the key", "[run_id]") {
  try {
    (void)make_run_ids("eps", {3.0, 1.0, 3.0}, "exp.yaml: privacy.target_epsilon");
    FAIL("expected an error");
  } catch (const dpsgd::util::UserError& e) {
    CHECK_THAT(e.what(), Catch::Contains("exp.yaml: privacy.target_epsilon") &&
                             Catch::Contains("'3'") && Catch::Contains("twice") &&
                             Catch::Contains("positions 1 and 3"));
  }
}
