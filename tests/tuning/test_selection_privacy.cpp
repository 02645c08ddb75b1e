// The privacy of releasing the best of several runs (lib/dpsgd/tuning) against
// Papernot and Steinke 2022's formulas evaluated here in closed form, against
// the fixed-count composition, and the trial-count distributions against scipy
// (tests/reference/audit_reference.json, scripts/gen_audit_reference.py).
#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/accounting/rdp_accountant.hpp"
#include "dpsgd/tuning/selection_privacy.hpp"
#include "dpsgd/tuning/trial_count.hpp"
#include "dpsgd/util/random_source.hpp"

using namespace dpsgd::tuning;
using dpsgd::accounting::RdpConversion;

namespace {

// The Gaussian mechanism with sensitivity 1 and noise s: eps(lambda) = lambda / (2 s^2),
// a curve whose minimisation over lambda_hat is known in closed form.
std::vector<double> gaussian_curve(const std::vector<double>& orders, double s) {
  std::vector<double> out;
  for (const double a : orders) out.push_back(a / (2 * s * s));
  return out;
}

std::vector<double> dense_orders() {
  std::vector<double> orders;
  for (double a = 1.01; a < 400; a *= 1.01) orders.push_back(a);
  return orders;
}

}  // namespace

TEST_CASE("truncated negative binomial matches scipy's conditioned nbinom", "[tuning]") {
  std::ifstream in(std::string(DPSGD_SOURCE_DIR) + "/tests/reference/audit_reference.json");
  REQUIRE(in);
  const auto ref = nlohmann::json::parse(in);
  REQUIRE(ref["truncated_negative_binomial"].size() >= 4);
  for (const auto& row : ref["truncated_negative_binomial"]) {
    const TruncatedNegativeBinomial d{row["eta"], row["gamma"]};
    INFO(row.dump());
    REQUIRE(d.mean() == Approx(row["mean"].get<double>()).epsilon(1e-12));
    for (std::size_t k = 0; k < row["pmf"].size(); ++k) {
      REQUIRE(d.pmf(static_cast<std::int64_t>(k) + 1) ==
              Approx(row["pmf"][k].get<double>()).epsilon(1e-10));
    }
  }
  SECTION("eta 0 (logarithmic) and eta < 0 sum to 1 with the stated mean") {
    for (const TruncatedNegativeBinomial d :
         {TruncatedNegativeBinomial{0.0, 0.2}, TruncatedNegativeBinomial{-0.5, 0.3}}) {
      double total = 0;
      double mean = 0;
      for (std::int64_t k = 1; k < 5000; ++k) {
        total += d.pmf(k);
        mean += static_cast<double>(k) * d.pmf(k);
      }
      REQUIRE(total == Approx(1.0).epsilon(1e-9));
      REQUIRE(mean == Approx(d.mean()).epsilon(1e-6));
    }
  }
  SECTION("draws have the stated mean") {
    auto source = dpsgd::util::RandomSource::seeded(7);
    const TruncatedNegativeBinomial d{1.0, 0.1};
    double sum = 0;
    double poisson_sum = 0;
    for (int i = 0; i < 4000; ++i) {
      sum += static_cast<double>(d.sample(source));
      poisson_sum += static_cast<double>(sample_poisson(5.0, source));
    }
    REQUIRE(sum / 4000 == Approx(10.0).margin(0.6));  // sd 9.5 / sqrt(4000) = 0.15
    REQUIRE(poisson_sum / 4000 == Approx(5.0).margin(0.15));
  }
}

TEST_CASE("TNB selection equals Papernot-Steinke Thm 2 in closed form", "[tuning]") {
  const auto orders = dense_orders();
  const double s = 4.0;
  const auto curve = gaussian_curve(orders, s);
  for (const auto& [eta, gamma] :
       {std::pair{1.0, 0.1}, std::pair{0.5, 0.05}, std::pair{0.0, 0.2}}) {
    const TruncatedNegativeBinomial k{eta, gamma};
    const auto selected = tnb_selection_rdp(orders, curve, k);
    // min over lh of (1+eta)[(1 - 1/lh) lh / (2 s^2) + log(1/gamma) / lh]
    //   = (1+eta)[(lh - 1) / (2 s^2) + log(1/gamma) / lh], minimised at lh = s sqrt(2
    //   log(1/gamma)).
    const double lh = s * std::sqrt(2 * std::log(1 / gamma));
    const double extra = (1 + eta) * ((lh - 1) / (2 * s * s) + std::log(1 / gamma) / lh);
    for (const double lambda : {2.0, 8.0, 32.0}) {
      std::size_t i = 0;
      while (orders[i] < lambda) ++i;
      const double expect = orders[i] / (2 * s * s) + extra + std::log(k.mean()) / (orders[i] - 1);
      INFO("eta " << eta << " gamma " << gamma << " lambda " << orders[i]);
      // The orders are a grid: its minimum is within the grid's spacing of the true one.
      REQUIRE(selected[i] >= expect - 1e-12);
      REQUIRE(selected[i] == Approx(expect).epsilon(1e-3));
    }
  }
}

TEST_CASE("selection costs less than composing every trial, and grows with E[K]", "[tuning]") {
  const auto orders = dpsgd::accounting::default_rdp_orders();
  // One trial: 1000 steps of q 0.01, sigma 1.
  std::vector<double> one = dpsgd::accounting::compute_rdp_curve(0.01, 1.0, orders);
  for (double& v : one) v *= 1000;
  const auto eps_of = [&](const std::vector<double>& curve) {
    return dpsgd::accounting::rdp_to_epsilon(orders, curve, 1e-5, RdpConversion::kImproved).epsilon;
  };
  const double single = eps_of(one);
  double previous = 0;
  for (const double gamma : {0.5, 0.2, 0.1, 0.05, 0.02}) {
    const TruncatedNegativeBinomial k{1.0, gamma};
    const double selected = eps_of(tnb_selection_rdp(orders, one, k));
    const auto count = static_cast<std::size_t>(std::lround(k.mean()));
    const double composed = eps_of(composed_rdp(std::vector<std::vector<double>>(count, one)));
    INFO("gamma " << gamma << " E[K] " << k.mean());
    REQUIRE(selected > single);
    REQUIRE(selected > previous);  // monotone in E[K]
    if (count >= 5) REQUIRE(selected < composed);
    previous = selected;
  }
  double previous_poisson = 0;
  for (const double mu : {1.0, 3.0, 10.0, 30.0}) {
    const double selected = eps_of(poisson_selection_rdp(orders, one, mu));
    INFO("mu " << mu);
    REQUIRE(selected > previous_poisson);
    previous_poisson = selected;
  }
  REQUIRE(mixture_rdp({one, composed_rdp({one, one})}) == composed_rdp({one, one}));
}

TEST_CASE("Poisson selection equals Papernot-Steinke Thm 6, delta-hat a true bound", "[tuning]") {
  const auto orders = dense_orders();
  const double s = 3.0;
  const auto curve = gaussian_curve(orders, s);
  const double mu = 6.0;
  const auto selected = poisson_selection_rdp(orders, curve, mu);
  // The Gaussian mechanism's exact delta (Balle and Wang 2018, Thm 8):
  // delta(eps) = Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) - eps s).
  const auto phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  const auto exact = [&](double eps) {
    return phi(1 / (2 * s) - eps * s) - std::exp(eps) * phi(-1 / (2 * s) - eps * s);
  };
  for (const double lambda : {1.5, 3.0, 12.0}) {
    std::size_t i = 0;
    while (orders[i] < lambda) ++i;
    const double eps_hat = std::log1p(1 / (orders[i] - 1));
    // Canonne, Kamath, Steinke 2020, Prop. 12, evaluated here over the same orders.
    double log_delta = 0;
    for (std::size_t j = 0; j < orders.size(); ++j) {
      const double a = orders[j];
      log_delta = std::min(
          log_delta, (a - 1) * (curve[j] - eps_hat) + (a - 1) * std::log(1 - 1 / a) - std::log(a));
    }
    const double delta_hat = std::exp(log_delta);
    INFO("lambda " << orders[i]);
    REQUIRE(rdp_delta(orders, curve, eps_hat) == Approx(delta_hat).epsilon(1e-12));
    REQUIRE(delta_hat >= exact(eps_hat));  // RDP's delta is an upper bound
    REQUIRE(selected[i] ==
            Approx(curve[i] + mu * delta_hat + std::log(mu) / (orders[i] - 1)).epsilon(1e-12));
  }
}

TEST_CASE("rdp_delta inverts the conversion conservatively", "[tuning]") {
  const auto orders = dpsgd::accounting::default_rdp_orders();
  std::vector<double> curve = dpsgd::accounting::compute_rdp_curve(0.01, 1.0, orders);
  for (double& v : curve) v *= 1000;
  const auto at = dpsgd::accounting::rdp_to_epsilon(orders, curve, 1e-5, RdpConversion::kImproved);
  // The improved conversion of Balle et al. and this delta bound are the same
  // inequality read in the two directions (up to the grid): delta at that eps is <= 1e-5.
  REQUIRE(rdp_delta(orders, curve, at.epsilon) <= 1e-5 * (1 + 1e-9));
  REQUIRE(rdp_delta(orders, curve, at.epsilon * 0.9) > 1e-5);
}
