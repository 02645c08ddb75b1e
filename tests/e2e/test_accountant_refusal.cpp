// `dpsgd-run epsilon` with an accountant that cannot answer: exit 2 with advice,
// never an epsilon (PRV printed 0.0 for a billion steps).
#include <string>

#include <catch2/catch.hpp>

#include "tests/helpers/run_binary.hpp"

TEST_CASE("dpsgd-run epsilon: PRV past its range exits 2 and advises RDP", "[e2e][cli][prv]") {
  const auto r = dpsgd::test::run_dpsgd(
      "epsilon --accountant prv --sample-rate 0.01 --noise-multiplier 1 --steps 1000000000 "
      "--delta 1e-5");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("--accountant rdp") != std::string::npos);
  CHECK(r.output.find("\"epsilon\"") == std::string::npos);
  const auto rdp = dpsgd::test::run_dpsgd(
      "epsilon --accountant rdp --sample-rate 0.01 --noise-multiplier 1 --steps 1000000000 "
      "--delta 1e-5");
  INFO(rdp.output);
  CHECK(rdp.code == 0);
  CHECK(rdp.output.find("\"epsilon\":92526") != std::string::npos);
}
