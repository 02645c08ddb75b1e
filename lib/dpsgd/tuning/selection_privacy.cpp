#include "dpsgd/tuning/selection_privacy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "dpsgd/accounting/rdp_accountant.hpp"

namespace dpsgd::tuning {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_curve(const std::vector<double>& orders, const std::vector<double>& rdp) {
  if (orders.empty() || orders.size() != rdp.size()) {
    throw std::invalid_argument("tuning: one RDP value per order needed");
  }
  for (const double a : orders) {
    if (!(a > 1.0)) throw std::invalid_argument("tuning: RDP orders must be > 1");
  }
}

}  // namespace

std::vector<double> history_rdp(const std::vector<accounting::MechanismSegment>& history,
                                const std::vector<double>& orders) {
  std::vector<double> total(orders.size(), 0.0);
  for (const auto& s : history) {
    if (s.steps == 0) continue;
    const auto one = accounting::compute_rdp_curve(s.sample_rate, s.noise_multiplier, orders);
    for (std::size_t i = 0; i < orders.size(); ++i) {
      total[i] += static_cast<double>(s.steps) * one[i];
    }
  }
  return total;
}

std::vector<double> mixture_rdp(const std::vector<std::vector<double>>& curves) {
  if (curves.empty()) throw std::invalid_argument("tuning: no candidate runs");
  std::vector<double> out = curves.front();
  for (const auto& c : curves) {
    if (c.size() != out.size()) throw std::invalid_argument("tuning: curves of different orders");
    for (std::size_t i = 0; i < c.size(); ++i) out[i] = std::max(out[i], c[i]);
  }
  return out;
}

std::vector<double> composed_rdp(const std::vector<std::vector<double>>& curves) {
  if (curves.empty()) throw std::invalid_argument("tuning: no runs");
  std::vector<double> out(curves.front().size(), 0.0);
  for (const auto& c : curves) {
    if (c.size() != out.size()) throw std::invalid_argument("tuning: curves of different orders");
    for (std::size_t i = 0; i < c.size(); ++i) out[i] += c[i];
  }
  return out;
}

std::vector<double> tnb_selection_rdp(const std::vector<double>& orders,
                                      const std::vector<double>& trial_rdp,
                                      const TruncatedNegativeBinomial& k) {
  check_curve(orders, trial_rdp);
  k.check();
  const double scale = 1.0 + k.eta;
  const double log_inv_gamma = -std::log(k.gamma);
  // lambda_hat = 1: the (1 - 1/lambda_hat) eps_hat term vanishes.
  double extra = scale * log_inv_gamma;
  for (std::size_t j = 0; j < orders.size(); ++j) {
    const double lh = orders[j];
    if (!std::isfinite(trial_rdp[j])) continue;
    extra = std::min(extra, scale * (1.0 - 1.0 / lh) * trial_rdp[j] + scale * log_inv_gamma / lh);
  }
  const double log_mean = std::log(k.mean());
  std::vector<double> out(orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    out[i] = trial_rdp[i] + extra + log_mean / (orders[i] - 1.0);
  }
  return out;
}

double rdp_delta(const std::vector<double>& orders, const std::vector<double>& rdp,
                 double epsilon) {
  check_curve(orders, rdp);
  double log_delta = 0.0;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i];
    if (!std::isfinite(rdp[i]) || !std::isfinite(a)) continue;
    const double bound =
        (a - 1.0) * (rdp[i] - epsilon) + (a - 1.0) * std::log1p(-1.0 / a) - std::log(a);
    log_delta = std::min(log_delta, bound);
  }
  return std::exp(log_delta);
}

std::vector<double> poisson_selection_rdp(const std::vector<double>& orders,
                                          const std::vector<double>& trial_rdp, double mu) {
  check_curve(orders, trial_rdp);
  if (!(mu > 0.0)) throw std::invalid_argument("tuning: the Poisson mean must be > 0");
  std::vector<double> out(orders.size(), kInf);
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const double lambda = orders[i];
    if (!std::isfinite(lambda) || !std::isfinite(trial_rdp[i])) continue;
    const double eps_hat = std::log1p(1.0 / (lambda - 1.0));
    const double delta_hat = rdp_delta(orders, trial_rdp, eps_hat);
    out[i] = trial_rdp[i] + mu * delta_hat + std::log(mu) / (lambda - 1.0);
  }
  return out;
}

}  // namespace dpsgd::tuning
