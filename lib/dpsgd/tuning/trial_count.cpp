#include "dpsgd/tuning/trial_count.hpp"

#include <cmath>
#include <stdexcept>

namespace dpsgd::tuning {

void TruncatedNegativeBinomial::check() const {
  if (!(eta > -1.0) || !(gamma > 0.0 && gamma < 1.0)) {
    throw std::invalid_argument("truncated negative binomial: need eta > -1 and 0 < gamma < 1");
  }
}

double TruncatedNegativeBinomial::pmf(std::int64_t k) const {
  if (k < 1) return 0.0;
  const double kk = static_cast<double>(k);
  if (eta == 0.0)
    return std::exp(kk * std::log1p(-gamma) - std::log(kk) - std::log(-std::log(gamma)));
  // log prod_{l<k} (l + eta) / (l + 1) = lgamma(k + eta) - lgamma(eta) - lgamma(k + 1), with
  // std::lgamma giving log|Gamma|; the product is negative only when eta < 0 (its l = 0 factor).
  const double log_prod = std::lgamma(kk + eta) - std::lgamma(eta) - std::lgamma(kk + 1);
  const double norm = std::pow(gamma, -eta) - 1.0;  // negative when eta < 0, as the product
  return std::exp(kk * std::log1p(-gamma) + log_prod) / std::abs(norm);
}

double TruncatedNegativeBinomial::mean() const {
  check();
  if (eta == 0.0) return (1.0 / gamma - 1.0) / std::log(1.0 / gamma);
  return eta * (1.0 - gamma) / (gamma * (1.0 - std::pow(gamma, eta)));
}

std::int64_t TruncatedNegativeBinomial::sample(util::RandomSource& source) const {
  check();
  const double u = source.uniform(1).item<double>();
  double cdf = 0.0;
  for (std::int64_t k = 1; k < 10'000'000; ++k) {
    cdf += pmf(k);
    if (u < cdf) return k;
  }
  throw std::runtime_error("truncated negative binomial: no draw below 10^7 (gamma too small)");
}

std::int64_t sample_poisson(double mu, util::RandomSource& source) {
  if (!(mu > 0.0 && mu < 700.0)) throw std::invalid_argument("Poisson: need 0 < mu < 700");
  const double u = source.uniform(1).item<double>();
  double p = std::exp(-mu);
  double cdf = p;
  std::int64_t k = 0;
  while (u >= cdf && k < 100'000) {
    ++k;
    p *= mu / static_cast<double>(k);
    cdf += p;
  }
  return k;
}

}  // namespace dpsgd::tuning
