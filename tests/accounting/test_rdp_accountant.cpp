// Tests of the RDP accountant against published and independently computed values.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/accounting/calibration.hpp"
#include "dpsgd/accounting/rdp_accountant.hpp"

#ifndef DPSGD_SOURCE_DIR
#define DPSGD_SOURCE_DIR "."
#endif

using dpsgd::accounting::compute_rdp;
using dpsgd::accounting::compute_rdp_curve;
using dpsgd::accounting::default_rdp_orders;
using dpsgd::accounting::rdp_epsilon;
using dpsgd::accounting::RdpAccountant;
using dpsgd::accounting::RdpConversion;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

nlohmann::json load_reference() {
  const std::string path = std::string(DPSGD_SOURCE_DIR) + "/tests/reference/rdp_reference.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

double rel_err(double got, double want) { return std::fabs(got - want) / std::fabs(want); }

// calibrate_sigma() with a fresh RdpAccountant (default orders) per evaluation.
double calibrate_rdp(double target, double q, std::int64_t steps, double delta,
                     RdpConversion conv = RdpConversion::kImproved, double tolerance = 1e-4) {
  const dpsgd::accounting::AccountantMaker make = [conv] {
    return std::make_unique<RdpAccountant>(conv);
  };
  return dpsgd::accounting::calibrate_sigma(make, target, q, steps, delta, tolerance);
}

double eps_of(double sigma, double q, std::int64_t steps, double delta,
              RdpConversion conv = RdpConversion::kImproved) {
  return rdp_epsilon(sigma, q, steps, delta, conv).epsilon;
}

}  // namespace

TEST_CASE("default RDP orders are Opacus' list", "[rdp]") {
  const auto orders = default_rdp_orders();
  REQUIRE(orders.size() == 151);
  CHECK(orders.front() == 1.1);
  CHECK(orders[8] == 1.9);
  CHECK(orders[9] == 2.0);  // exactly integral: takes the integer path, as in Opacus
  CHECK(orders[98] == 10.9);
  CHECK(orders[99] == 12.0);
  CHECK(orders.back() == 63.0);
  CHECK(std::is_sorted(orders.begin(), orders.end()));
}

// TF Privacy MNIST tutorial (tutorials/README.md): N = 60000, batch 256, delta 1e-5,
// classic conversion over the tutorial's orders (= default_rdp_orders()), steps =
// epochs * 60000 // 256 as in mnist_dpsgd_tutorial.py. The 15-epoch row of that table
// uses noise 1.3 (noise 1.1 for 15 epochs gives 1.59, not 1.19).
TEST_CASE("TF Privacy MNIST tutorial epsilons (classic conversion)", "[rdp]") {
  const double q = 256.0 / 60000.0;
  struct Row {
    double sigma;
    std::int64_t epochs;
    double eps;
  };
  for (const Row& r : {Row{1.1, 60, 3.01}, Row{0.7, 45, 7.10}, Row{1.3, 15, 1.19}}) {
    const std::int64_t steps = r.epochs * 60000 / 256;
    RdpAccountant acc(RdpConversion::kClassic);
    acc.step(r.sigma, q, steps);
    const double eps = acc.epsilon(1e-5).epsilon;
    INFO("sigma " << r.sigma << " epochs " << r.epochs << " eps " << eps);
    CHECK(std::round(eps * 100.0) / 100.0 == Approx(r.eps).margin(1e-12));
  }
  // Full-precision values of the same computation (TF Privacy / Opacus code).
  CHECK(eps_of(1.1, q, 14062, 1e-5, RdpConversion::kClassic) ==
        Approx(3.008272082524604).epsilon(1e-6));
  CHECK(eps_of(0.7, q, 10546, 1e-5, RdpConversion::kClassic) ==
        Approx(7.100268331690495).epsilon(1e-6));
  CHECK(eps_of(1.1, q, 3515, 1e-5, RdpConversion::kClassic) ==
        Approx(1.5940562574794588).epsilon(1e-6));
}

TEST_CASE("improved conversion matches Opacus on a grid", "[rdp]") {
  const auto ref = load_reference();
  REQUIRE(ref.at("points").size() >= 20);
  for (const auto& p : ref.at("points")) {
    const double q = p.at("q");
    const double sigma = p.at("sigma");
    const std::int64_t steps = p.at("steps");
    const double delta = p.at("delta");
    RdpAccountant acc;  // improved, default orders
    acc.step(sigma, q, steps);
    const auto report = acc.epsilon(delta);
    INFO("q " << q << " sigma " << sigma << " steps " << steps << " delta " << delta << " eps "
              << report.epsilon << " ref " << p.at("epsilon").get<double>());
    CHECK(rel_err(report.epsilon, p.at("epsilon")) < 1e-6);
    CHECK(report.best_order == p.at("best_order").get<double>());
    CHECK(report.delta == delta);
    CHECK(report.epsilon_lower == report.epsilon);
    CHECK(report.epsilon_upper == report.epsilon);
    // dp_accounting sums the fractional-order series in absolute value (or drops orders
    // whose series it cannot finish), an upper bound of the exact series we sum.
    CHECK(report.epsilon <= p.at("epsilon_dp_accounting").get<double>() * (1.0 + 1e-9));
  }
}

TEST_CASE("per-order RDP matches Opacus, integer and fractional orders", "[rdp]") {
  const auto ref = load_reference();
  REQUIRE(ref.at("rdp_points").size() >= 40);
  for (const auto& p : ref.at("rdp_points")) {
    const double q = p.at("q");
    const double sigma = p.at("sigma");
    const double alpha = p.at("alpha");
    const double want = p.at("rdp");
    const double got = compute_rdp(q, sigma, alpha);
    INFO("q " << q << " sigma " << sigma << " alpha " << alpha << " rdp " << got << " ref "
              << want);
    // Opacus truncates the fractional series once terms fall below e^-30 ~ 9.4e-14 in
    // absolute terms, an error of that size in log A = (alpha - 1) * rdp. When log A is
    // itself tiny (q = 1e-4: log A ~ 3e-8) that is more than 1e-6 relative, so such
    // points are held to Opacus' own error instead (and checked against quadrature below).
    const double log_a_err = std::fabs(got - want) * (alpha - 1.0);
    CHECK((rel_err(got, want) < 1e-6 || log_a_err < 2e-13));
  }
}

TEST_CASE("fractional-order series agrees with quadrature where dp_accounting is loose", "[rdp]") {
  // log A / (alpha - 1) from adaptive quadrature of
  // E_{z~N(0,s^2)}[(1 - q + q exp((2z-1)/(2 s^2)))^alpha] (scipy.integrate.quad,
  // epsrel 1e-13); dp_accounting gives 0.096354, 0.0058901 and inf for the first three.
  CHECK(compute_rdp(0.5, 2.0, 2.6) == Approx(0.09279588246313893).epsilon(1e-9));
  CHECK(compute_rdp(0.5, 10.0, 3.8) == Approx(0.004789438852642443).epsilon(1e-9));
  CHECK(compute_rdp(0.5, 2.0, 1.1) == Approx(0.03562762985055305).epsilon(1e-9));
  CHECK(compute_rdp(0.01, 0.5, 2.1) == Approx(0.006319088254261923).epsilon(1e-9));
  // mpmath quad at 40 digits. Opacus gives 2.8098515886945e-07 (2.7e-6 high: its
  // absolute truncation, see above); the relative truncation used here gets ~1e-8.
  CHECK(compute_rdp(1e-4, 0.5, 1.1) == Approx(2.8098440675006008e-07).epsilon(1e-8));
  // Huge sigma at q = 1/2, where the series converges only polynomially (mpmath quad).
  CHECK(compute_rdp(0.5, 100.0, 1.1) == Approx(1.37502062475079e-5).epsilon(1e-9));
  CHECK(compute_rdp(0.5, 100.0, 1.5) == Approx(1.87504687509766e-5).epsilon(1e-9));
  CHECK(compute_rdp(0.5, 1e4, 2.5) == Approx(3.125000015625e-9).epsilon(1e-6));
  CHECK(compute_rdp(0.5, 1e4, 2.5) >= 3.125000015625e-9);  // errs on the safe side
}

TEST_CASE("mixed histories compose by summing RDP curves", "[rdp]") {
  const auto ref = load_reference();
  for (const auto& h : ref.at("histories")) {
    RdpAccountant acc;
    for (const auto& s : h.at("segments")) {
      acc.step(s.at("sigma").get<double>(), s.at("q").get<double>(),
               s.at("steps").get<std::int64_t>());
    }
    const auto report = acc.epsilon(h.at("delta"));
    CHECK(rel_err(report.epsilon, h.at("epsilon")) < 1e-6);
    CHECK(report.best_order == h.at("best_order").get<double>());
  }

  // Independent of the reference: the composed curve is sum(steps * one-step curve),
  // whatever the order or granularity of the calls.
  const auto orders = default_rdp_orders();
  const auto c1 = compute_rdp_curve(0.01, 1.0, orders);
  const auto c2 = compute_rdp_curve(0.02, 2.0, orders);
  RdpAccountant acc;
  acc.step(1.0, 0.01, 300);
  acc.step(2.0, 0.02, 50);
  for (int i = 0; i < 200; ++i) acc.step(1.0, 0.01);
  acc.step(2.0, 0.02, 0);  // records nothing
  acc.step(2.0, 0.02, 25);
  const auto rdp = acc.rdp();
  REQUIRE(rdp.size() == orders.size());
  for (std::size_t k = 0; k < orders.size(); ++k) {
    CHECK(rdp[k] == Approx(500.0 * c1[k] + 75.0 * c2[k]).epsilon(1e-12));
  }
  const auto& hist = acc.history();
  REQUIRE(hist.size() == 4);
  CHECK(hist[0].steps == 300);
  CHECK(hist[1].steps == 50);
  CHECK(hist[2].noise_multiplier == 1.0);
  CHECK(hist[2].sample_rate == 0.01);
  CHECK(hist[2].steps == 200);  // 200 single steps merged into one segment
  CHECK(hist[3].steps == 25);

  // Same total as one accountant per segment can never beat the composition.
  RdpAccountant only1;
  only1.step(1.0, 0.01, 500);
  CHECK(acc.epsilon(1e-5).epsilon > only1.epsilon(1e-5).epsilon);
}

TEST_CASE("monotonicity in steps, q and sigma", "[rdp]") {
  for (const auto conv : {RdpConversion::kClassic, RdpConversion::kImproved}) {
    double prev = 0.0;
    for (std::int64_t steps : {1, 10, 100, 1000, 10000, 100000}) {
      const double e = eps_of(1.0, 0.01, steps, 1e-5, conv);
      CHECK(e > prev);
      prev = e;
    }
    prev = 0.0;
    for (double q : {1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0}) {
      const double e = eps_of(1.5, q, 100, 1e-5, conv);
      CHECK(e > prev);
      prev = e;
    }
    prev = kInf;
    for (double sigma : {0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 50.0}) {
      const double e = eps_of(sigma, 0.02, 1000, 1e-5, conv);
      CHECK(e < prev);
      prev = e;
    }
    // Smaller delta, larger epsilon.
    CHECK(eps_of(1.0, 0.01, 1000, 1e-8, conv) > eps_of(1.0, 0.01, 1000, 1e-5, conv));
  }
  // Per order, RDP falls with sigma and rises with q, over tiny to huge values.
  for (double alpha : {1.1, 1.5, 2.0, 2.5, 7.3, 12.0, 63.0}) {
    double prev = kInf;
    for (double sigma : {1e-3, 0.1, 0.5, 1.0, 3.0, 30.0, 1e3, 1e5}) {
      const double r = compute_rdp(0.01, sigma, alpha);
      INFO("alpha " << alpha << " sigma " << sigma);
      CHECK(r < prev);
      prev = r;
    }
    prev = 0.0;
    for (double q : {1e-6, 1e-4, 0.01, 0.1, 0.5, 0.99, 1.0}) {
      const double r = compute_rdp(q, 1.0, alpha);
      INFO("alpha " << alpha << " q " << q);
      CHECK(r > prev);
      prev = r;
    }
  }
}

TEST_CASE("improved conversion is never looser than the classic one", "[rdp]") {
  for (double sigma : {0.5, 1.0, 2.0, 8.0}) {
    for (double q : {1e-3, 0.01, 0.3, 1.0}) {
      const double classic = eps_of(sigma, q, 1000, 1e-5, RdpConversion::kClassic);
      const double improved = eps_of(sigma, q, 1000, 1e-5, RdpConversion::kImproved);
      CHECK(improved < classic);
      CHECK(improved > 0.5 * classic);  // same ballpark: a conversion, not a new analysis
    }
  }
}

TEST_CASE("q = 1 is the plain Gaussian mechanism", "[rdp]") {
  for (double sigma : {0.1, 0.7, 1.0, 3.0, 100.0}) {
    for (double alpha : {1.1, 1.5, 2.0, 10.9, 32.0, 63.0}) {
      CHECK(compute_rdp(1.0, sigma, alpha) == alpha / (2.0 * sigma * sigma));
    }
  }
  // Closed form of the classic conversion for the Gaussian: minimise over the orders
  // steps*alpha/(2 sigma^2) + log(1/delta)/(alpha - 1).
  const double sigma = 4.0;
  const std::int64_t steps = 3;
  double best = kInf;
  for (double a : default_rdp_orders()) {
    best = std::min(best, steps * a / (2 * sigma * sigma) + std::log(1e5) / (a - 1));
  }
  CHECK(eps_of(sigma, 1.0, steps, 1e-5, RdpConversion::kClassic) == Approx(best).epsilon(1e-14));
}

TEST_CASE("edge cases: no steps, no noise, tiny and huge noise", "[rdp]") {
  SECTION("nothing recorded or zero steps gives epsilon 0") {
    RdpAccountant acc;
    CHECK(acc.epsilon(1e-5).epsilon == 0.0);
    CHECK(acc.epsilon(1e-5).best_order == 0.0);
    acc.step(1.0, 0.01, 0);
    CHECK(acc.history().empty());
    CHECK(acc.epsilon(1e-5).epsilon == 0.0);
    CHECK(eps_of(1.0, 0.01, 0, 1e-5) == 0.0);
    CHECK(calibrate_rdp(1.0, 0.01, 0, 1e-5) == 0.0);
  }
  SECTION("sigma = 0 is +inf, never NaN") {
    for (double alpha : {1.1, 2.0, 2.5, 63.0}) {
      CHECK(compute_rdp(0.01, 0.0, alpha) == kInf);
      CHECK(compute_rdp(1.0, 0.0, alpha) == kInf);
    }
    RdpAccountant acc;
    acc.step(0.0, 0.01, 1);
    const auto report = acc.epsilon(1e-5);
    CHECK(report.epsilon == kInf);
    CHECK(report.best_order == 0.0);
    CHECK_FALSE(std::isnan(report.epsilon));
    acc.step(1.0, 0.01, 1000);  // a noisy segment after a noiseless one is still inf
    CHECK(acc.epsilon(1e-5).epsilon == kInf);
    CHECK(compute_rdp(0.01, 1.0, kInf) == kInf);
  }
  SECTION("tiny and huge sigma stay finite, non-negative and ordered") {
    const auto orders = default_rdp_orders();
    for (double q : {1e-10, 1e-4, 0.01, 0.5, 0.999, 1.0}) {
      for (double sigma : {1e-200, 1e-8, 1e-3, 0.05, 1e3, 1e8, 1e50, 1e200}) {
        const auto curve = compute_rdp_curve(q, sigma, orders);
        for (std::size_t k = 0; k < orders.size(); ++k) {
          INFO("q " << q << " sigma " << sigma << " alpha " << orders[k] << " rdp " << curve[k]);
          REQUIRE_FALSE(std::isnan(curve[k]));
          CHECK(curve[k] >= 0.0);
          // Never above the plain Gaussian (q = 1) value.
          CHECK(curve[k] <= orders[k] / (2.0 * sigma * sigma) * (1.0 + 1e-12));
          if (sigma >= 1e-3) CHECK(std::isfinite(curve[k]));
        }
        const double e = eps_of(sigma, q, 1000, 1e-5);
        CHECK_FALSE(std::isnan(e));
        CHECK(e >= 0.0);
      }
    }
    // Huge noise: epsilon tends to the conversion's own floor; tiny noise: enormous.
    const double floor_eps = eps_of(1e200, 0.01, 1000, 1e-5);
    CHECK(floor_eps > 0.0);
    CHECK(eps_of(1e4, 0.01, 1000, 1e-5) == Approx(floor_eps).epsilon(1e-6));
    CHECK(eps_of(1e-3, 0.01, 1000, 1e-5) > 1e3);
    // Tiny q, moderate noise: per-step RDP ~ alpha q^2 / (2 sigma^2) to leading order.
    CHECK(compute_rdp(1e-8, 1.0, 2.0) ==
          Approx(1e-16 * std::expm1(1.0)).epsilon(1e-6));  // exactly q^2 (e - 1) at alpha 2
  }
}

TEST_CASE("noise calibration round-trips", "[rdp]") {
  for (const auto conv : {RdpConversion::kClassic, RdpConversion::kImproved}) {
    for (double target : {0.5, 1.0, 3.0, 8.0}) {
      const double q = 2048.0 / 60000.0;
      const std::int64_t steps = 1172;
      const double tol = 1e-4;
      const double sigma = calibrate_rdp(target, q, steps, 1e-5, conv, tol);
      INFO("target " << target << " sigma " << sigma);
      CHECK(eps_of(sigma, q, steps, 1e-5, conv) <= target);
      CHECK(eps_of(sigma * (1.0 - 2.0 * tol), q, steps, 1e-5, conv) > target);
      // A tighter tolerance lands within the looser one.
      const double fine = calibrate_rdp(target, q, steps, 1e-5, conv, 1e-8);
      CHECK(fine <= sigma);
      CHECK(fine >= sigma * (1.0 - tol));
    }
  }
  // The improved conversion needs less noise for the same target.
  CHECK(calibrate_rdp(3.0, 0.01, 10000, 1e-5, RdpConversion::kImproved) <
        calibrate_rdp(3.0, 0.01, 10000, 1e-5, RdpConversion::kClassic));
  // Small sigma (< 1) and q = 1 work too.
  const double s = calibrate_rdp(20.0, 0.01, 100, 1e-5);
  CHECK(s < 1.0);
  CHECK(eps_of(s, 0.01, 100, 1e-5) <= 20.0);
  const double s1 = calibrate_rdp(2.0, 1.0, 10, 1e-5);
  CHECK(eps_of(s1, 1.0, 10, 1e-5) <= 2.0);
  CHECK(eps_of(s1 * (1 - 2e-4), 1.0, 10, 1e-5) > 2.0);
  // Below the floor that even infinite noise leaves: unreachable.
  CHECK_THROWS_AS(calibrate_rdp(0.05, 0.01, 1000, 1e-5), std::invalid_argument);
  CHECK_THROWS_AS(calibrate_rdp(0.0, 0.01, 1000, 1e-5), std::invalid_argument);
}

TEST_CASE("invalid inputs throw std::invalid_argument", "[rdp]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  RdpAccountant acc;
  for (double q : {0.0, -0.1, 1.5, nan}) {
    CHECK_THROWS_AS(acc.step(1.0, q, 1), std::invalid_argument);
    CHECK_THROWS_AS(compute_rdp(q, 1.0, 2.0), std::invalid_argument);
    CHECK_THROWS_AS(calibrate_rdp(1.0, q, 10, 1e-5), std::invalid_argument);
  }
  for (double sigma : {-1e-9, -1.0, nan, kInf}) {
    CHECK_THROWS_AS(acc.step(sigma, 0.01, 1), std::invalid_argument);
  }
  CHECK_THROWS_AS(compute_rdp(0.01, -1.0, 2.0), std::invalid_argument);
  CHECK_THROWS_AS(acc.step(1.0, 0.01, -1), std::invalid_argument);
  CHECK_THROWS_AS(calibrate_rdp(1.0, 0.01, -5, 1e-5), std::invalid_argument);
  for (double delta : {0.0, 1.0, -1e-5, 2.0, nan}) {
    CHECK_THROWS_AS(acc.epsilon(delta), std::invalid_argument);
    CHECK_THROWS_AS(calibrate_rdp(1.0, 0.01, 10, delta), std::invalid_argument);
  }
  for (double alpha : {1.0, 0.5, -2.0, nan}) {
    CHECK_THROWS_AS(compute_rdp(0.01, 1.0, alpha), std::invalid_argument);
  }
  CHECK_THROWS_AS(RdpAccountant(RdpConversion::kImproved, {}), std::invalid_argument);
  CHECK_THROWS_AS(RdpAccountant(RdpConversion::kImproved, {2.0, 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(calibrate_rdp(1.0, 0.01, 10, 1e-5, RdpConversion::kImproved, 0.0),
                  std::invalid_argument);
  CHECK_THROWS_AS(dpsgd::accounting::parse_rdp_conversion("tight"), std::invalid_argument);
  CHECK(dpsgd::accounting::parse_rdp_conversion("classic") == RdpConversion::kClassic);
  CHECK(dpsgd::accounting::parse_rdp_conversion("improved") == RdpConversion::kImproved);
  CHECK(dpsgd::accounting::to_string(RdpConversion::kClassic) == "classic");
  // A rejected call leaves the accountant untouched.
  CHECK(acc.history().empty());
  CHECK(acc.epsilon(1e-5).epsilon == 0.0);
}

TEST_CASE("custom orders and accountant metadata", "[rdp]") {
  RdpAccountant acc(RdpConversion::kClassic, {2.0, 4.0, 8.0, 16.0, 32.0});
  CHECK(acc.name() == "rdp");
  CHECK(acc.conversion() == RdpConversion::kClassic);
  acc.step(1.0, 0.01, 1000);
  const auto report = acc.epsilon(1e-5);
  double best = kInf;
  double best_order = 0.0;
  for (double a : {2.0, 4.0, 8.0, 16.0, 32.0}) {
    const double e = 1000.0 * compute_rdp(0.01, 1.0, a) + std::log(1e5) / (a - 1);
    if (e < best) {
      best = e;
      best_order = a;
    }
  }
  CHECK(report.epsilon == Approx(best).epsilon(1e-14));
  CHECK(report.best_order == best_order);
  CHECK(report.rdp_conversion == std::optional<std::string>("classic"));
  CHECK_FALSE(report.has_bounds);
  CHECK_FALSE(report.approximation);
  // Coarse orders can only be looser than the default grid.
  RdpAccountant fine(RdpConversion::kClassic);
  fine.step(1.0, 0.01, 1000);
  CHECK(fine.epsilon(1e-5).epsilon <= report.epsilon);
}

TEST_CASE("epsilon is cheap after the first step", "[rdp]") {
  RdpAccountant acc;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i) acc.step(1.1, 256.0 / 60000.0);  // curve computed once
  const auto t1 = std::chrono::steady_clock::now();
  double sink = 0.0;
  constexpr int kCalls = 2000;
  for (int i = 0; i < kCalls; ++i) sink += acc.epsilon(1e-5).epsilon;
  const auto t2 = std::chrono::steady_clock::now();
  const double step_s = std::chrono::duration<double>(t1 - t0).count();
  const double eps_us = std::chrono::duration<double, std::micro>(t2 - t1).count() / kCalls;
  INFO("100000 steps: " << step_s << " s; epsilon(): " << eps_us << " us per call");
  REQUIRE(acc.history().size() == 1);
  CHECK(acc.history()[0].steps == 100000);
  CHECK(sink / kCalls == Approx(eps_of(1.1, 256.0 / 60000.0, 100000, 1e-5)).epsilon(1e-12));
  // Generous bounds (shared 2-core CI machine, debug builds); typical: ~10 ms, ~10 us.
  CHECK(step_s < 1.0);
  CHECK(eps_us < 500.0);
}

TEST_CASE("very large orders get the convexity bound", "[rdp]") {
  const double q = 0.01;
  const double sigma = 1e4;
  const double alpha = 1e7;
  const double e = alpha * (alpha - 1.0) / (2.0 * sigma * sigma);
  const double bound = (std::log(q) + e + std::log1p((1.0 - q) * std::exp(-e))) / (alpha - 1.0);
  CHECK(compute_rdp(q, sigma, alpha) == Approx(bound).epsilon(1e-12));
  CHECK(compute_rdp(q, sigma, alpha) <= alpha / (2.0 * sigma * sigma));
  // Just below the cut-off the exact value is used, and it is below the bound.
  CHECK(compute_rdp(q, 1.0, 512.0) < 512.0 / 2.0);
}

TEST_CASE("each conversion formula has one owner, and the improved one is never looser", "[rdp]") {
  using dpsgd::accounting::classic_rdp_to_epsilon;
  using dpsgd::accounting::improved_rdp_to_epsilon;
  const double log_delta = std::log(1e-5);
  for (double alpha : {1.5, 2.0, 10.0, 63.0}) {
    for (double rdp : {0.0, 0.01, 1.0, 30.0}) {
      CHECK(classic_rdp_to_epsilon(rdp, alpha, log_delta) == rdp - log_delta / (alpha - 1.0));
      CHECK(improved_rdp_to_epsilon(rdp, alpha, log_delta) <=
            classic_rdp_to_epsilon(rdp, alpha, log_delta));
    }
  }
  CHECK(classic_rdp_to_epsilon(0.5, kInf, log_delta) == 0.5);
  CHECK(improved_rdp_to_epsilon(0.5, kInf, log_delta) == 0.5);
  // rdp_to_epsilon is their minimum over the orders.
  const std::vector<double> orders = {2.0, 8.0, 32.0};
  const std::vector<double> rdp = {0.2, 1.0, 4.0};
  double best = kInf;
  for (std::size_t k = 0; k < orders.size(); ++k) {
    best = std::min(best, improved_rdp_to_epsilon(rdp[k], orders[k], log_delta));
  }
  CHECK(dpsgd::accounting::rdp_to_epsilon(orders, rdp, 1e-5, RdpConversion::kImproved).epsilon ==
        best);
}
