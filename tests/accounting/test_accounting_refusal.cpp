// Accountants never report an epsilon they have not earned: outside its valid
// range (PRV past its grid) or on overflow an accountant throws AccountingError
// instead of returning 0 or a too-small value, and calibration never accepts a
// sigma whose epsilon was refused.
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/accounting/accounting_error.hpp"
#include "dpsgd/accounting/calibration.hpp"
#include "dpsgd/accounting/gdp_accountant.hpp"
#include "dpsgd/accounting/prv_accountant.hpp"
#include "dpsgd/accounting/rdp_accountant.hpp"

using namespace dpsgd::accounting;

TEST_CASE("PRV refuses a history past its range instead of printing 0", "[accountant][prv]") {
  // 1e9 steps at q 0.01, sigma 1: RDP says ~92526; the grid limit forces a mesh
  // wider than one step's loss distribution, and the composition ran off the grid
  // (it printed 0 before).
  PrvAccountant prv;
  prv.step(1.0, 0.01, 1000000000);
  CHECK_THROWS_AS(prv.epsilon(1e-5), AccountingError);
  CHECK_THROWS_WITH(prv.epsilon(1e-5), Catch::Contains("rdp"));
  RdpAccountant rdp;
  rdp.step(1.0, 0.01, 1000000000);
  CHECK(rdp.epsilon(1e-5).epsilon > 9e4);
}

TEST_CASE("PRV still answers where it is valid, with the error checks in place",
          "[accountant][prv]") {
  // Typical histories: the estimate lies below RDP's bound, which is looser.
  for (const std::int64_t steps : {std::int64_t{1000}, std::int64_t{100000}}) {
    PrvAccountant prv;
    prv.step(1.0, 0.01, steps);
    const auto r = prv.epsilon(1e-5);
    RdpAccountant rdp;
    rdp.step(1.0, 0.01, steps);
    INFO(steps << " steps: prv " << r.epsilon_upper << " rdp " << rdp.epsilon(1e-5).epsilon);
    CHECK(r.epsilon_upper > 0.0);
    CHECK(r.epsilon <= rdp.epsilon(1e-5).epsilon);
  }
}

TEST_CASE("RDP and GDP: extreme sigma and step counts give a number or a refusal, never NaN",
          "[accountant]") {
  const double big_steps = 4e18;
  for (const double sigma : {1e-300, 1e-5, 0.5, 1.0, 1e5, 1e300}) {
    for (const std::int64_t steps :
         {std::int64_t{1}, std::int64_t{1000}, static_cast<std::int64_t>(big_steps)}) {
      for (const double q : {1e-9, 0.01, 1.0}) {
        INFO("sigma " << sigma << " steps " << steps << " q " << q);
        RdpAccountant rdp;
        ApproximateGdpAccountant gdp;
        for (Accountant* a : std::vector<Accountant*>{&rdp, &gdp}) {
          a->step(sigma, q, steps);
          try {
            const auto r = a->epsilon(1e-5);
            CHECK_FALSE(std::isnan(r.epsilon));
            CHECK(r.epsilon >= 0.0);
            // Little noise, one full-batch step: far from private, never 0.
            if (sigma <= 0.5 && q == 1.0) CHECK(r.epsilon > 1.0);
          } catch (const AccountingError&) {
            SUCCEED("refused");
          }
        }
      }
    }
  }
}

namespace {

// eps = 10 / sigma, refused below `refuse_below`.
class FakeAccountant final : public Accountant {
 public:
  explicit FakeAccountant(double refuse_below) : refuse_below_(refuse_below) {}
  void step(double sigma, double q, std::int64_t steps) override {
    history_.push_back({sigma, q, steps});
  }
  [[nodiscard]] EpsilonReport epsilon(double delta) const override {
    const double sigma = history_.at(0).noise_multiplier;
    if (sigma < refuse_below_) throw AccountingError("fake: cannot answer");
    EpsilonReport r;
    r.delta = delta;
    r.epsilon = r.epsilon_lower = r.epsilon_upper = 10.0 / sigma;
    return r;
  }
  [[nodiscard]] std::string name() const override { return "fake"; }
  [[nodiscard]] const std::vector<MechanismSegment>& history() const override { return history_; }

 private:
  double refuse_below_;
  std::vector<MechanismSegment> history_;
};

}  // namespace

TEST_CASE("calibration never accepts a sigma whose epsilon was refused", "[accountant]") {
  const auto refusing_below = [](double s) -> AccountantMaker {
    return [s] { return std::make_unique<FakeAccountant>(s); };
  };
  // Valid everywhere it is asked: 10 / sigma = 4 at sigma 2.5.
  CHECK(calibrate_sigma(refusing_below(0.0), 4.0, 0.01, 10, 1e-5) == Approx(2.5).epsilon(1e-3));
  // Epsilon 10 would be reached at sigma 1, but sigmas below 2 are refused: the
  // answer is the smallest sigma with a computed epsilon within the target.
  const double s = calibrate_sigma(refusing_below(2.0), 10.0, 0.01, 10, 1e-5);
  CHECK(s >= 2.0);
  CHECK(s <= 2.0 * (1 + 1e-3));
  // Refused everywhere: unreachable, and the message says why.
  CHECK_THROWS_AS(calibrate_sigma(refusing_below(1e9), 1.0, 0.01, 10, 1e-5), std::invalid_argument);
  CHECK_THROWS_WITH(calibrate_sigma(refusing_below(1e9), 1.0, 0.01, 10, 1e-5),
                    Catch::Contains("fake: cannot answer"));
}

TEST_CASE("GDP: a delta that double precision cannot resolve never lowers epsilon",
          "[accountant][gdp]") {
  // mu = q sqrt(e^{1/sigma^2} - 1) for q 1e-8, sigma 0.05: ~7.2e78, so epsilon ~ mu^2 / 2,
  // where delta(eps) cancels to NaN; it counts as delta 1 (a valid bound), not 0.
  const double mu = gdp_mu(0.05, 1e-8, 1);
  REQUIRE(mu > 1e78);
  CHECK(gdp_epsilon(mu, 1e-5) >= 0.5 * mu * mu * (1 - 1e-9));
}
