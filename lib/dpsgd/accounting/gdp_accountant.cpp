#include "dpsgd/accounting/gdp_accountant.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "dpsgd/accounting/accounting_error.hpp"

namespace dpsgd::accounting {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLogSqrtPi = 0.57236494292470008707;
constexpr double kInvSqrt2 = 0.70710678118654752440;

std::string fmt(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

void validate_segment(double sigma, double q, std::int64_t steps, const char* who) {
  if (!(sigma >= 0.0) || std::isinf(sigma)) {
    throw std::invalid_argument(
        std::string(who) + ": noise multiplier sigma must be finite and >= 0, got " + fmt(sigma));
  }
  if (!(q > 0.0 && q <= 1.0)) {
    throw std::invalid_argument(std::string(who) + ": sampling rate q must be in (0, 1], got " +
                                fmt(q));
  }
  if (steps < 0) {
    throw std::invalid_argument(std::string(who) + ": steps must be >= 0, got " +
                                std::to_string(steps));
  }
}

// log(erfc(y)) for any y, without underflow: for y >= 26 erfc(y) = e^{-y^2} erfcx(y) with
// the asymptotic series erfcx(y) = 1/(y sqrt(pi)) sum_n (-1)^n (2n-1)!! / (2y^2)^n.
double log_erfc(double y) {
  if (y < -1.0) return std::log1p(-0.5 * std::erfc(-y)) + kLn2;  // erfc(y) = 2 - erfc(-y)
  if (y < 26.0) return std::log(std::erfc(y));
  if (y == kInf) return -kInf;
  const double t = 1.0 / (2.0 * y * y);
  double sum = 1.0;
  double term = 1.0;
  for (int n = 1; n < 30; ++n) {
    term *= -(2.0 * n - 1.0) * t;
    sum += term;
    if (std::fabs(term) < 1e-17) break;
  }
  return -y * y - std::log(y) - kLogSqrtPi + std::log(sum);
}

// log Phi(x), Phi the standard normal CDF.
double log_phi(double x) { return log_erfc(-x * kInvSqrt2) - kLn2; }

// Segment contribution to mu^2: q^2 * steps * (e^{1/sigma^2} - 1).
double mu_squared(double sigma, double q, std::int64_t steps) {
  if (steps == 0) return 0.0;
  if (sigma == 0.0) return kInf;
  return q * q * static_cast<double>(steps) * std::expm1(1.0 / (sigma * sigma));
}

}  // namespace

double gdp_mu(double sigma, double q, std::int64_t steps) {
  validate_segment(sigma, q, steps, "gdp_mu");
  return std::sqrt(mu_squared(sigma, q, steps));
}

double gdp_delta(double mu, double epsilon) {
  if (!(mu >= 0.0)) throw std::invalid_argument("gdp_delta: mu must be >= 0, got " + fmt(mu));
  if (!(epsilon >= 0.0)) {
    throw std::invalid_argument("gdp_delta: epsilon must be >= 0, got " + fmt(epsilon));
  }
  if (mu == 0.0 || epsilon == kInf) return 0.0;  // identical distributions / nothing left
  if (mu == kInf) return 1.0;
  // delta = Phi(a) - e^eps Phi(b) = -Phi(a) expm1(eps + log Phi(b) - log Phi(a)).
  const double a = -epsilon / mu + mu / 2.0;
  const double b = -epsilon / mu - mu / 2.0;
  const double log_pa = log_phi(a);
  if (log_pa == -kInf) return 0.0;  // delta <= Phi(a)
  const double log_pb = log_phi(b);
  const double diff = epsilon + log_pb - log_pa;
  const double delta = -std::exp(log_pa) * std::expm1(diff);
  // Unresolvable in double precision (mu so large that eps ~ mu^2 / 2 cancels against
  // log Phi(b), and 0 * inf remains): 1 is always a valid bound on delta, so epsilon
  // searched with it can only come out larger, never smaller (this used to be 0).
  if (std::isnan(delta)) return 1.0;
  return std::min(1.0, std::max(0.0, delta));
}

double gdp_epsilon(double mu, double delta) {
  if (!(mu >= 0.0)) throw std::invalid_argument("gdp_epsilon: mu must be >= 0, got " + fmt(mu));
  if (!(delta > 0.0 && delta < 1.0)) {
    throw std::invalid_argument("gdp_epsilon: delta must be in (0, 1), got " + fmt(delta));
  }
  if (mu == kInf) return kInf;
  if (gdp_delta(mu, 0.0) <= delta) return 0.0;
  // delta(eps) decreases in eps: bracket the root, then bisect to adjacent doubles.
  double lo = 0.0;
  double hi = 1.0;
  while (gdp_delta(mu, hi) > delta) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e300) return kInf;  // beyond the double range
  }
  for (int iter = 0; iter < 2000; ++iter) {
    const double mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;
    if (gdp_delta(mu, mid) > delta) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

void ApproximateGdpAccountant::step(double sigma, double q, std::int64_t steps) {
  validate_segment(sigma, q, steps, "ApproximateGdpAccountant::step");
  if (steps == 0) return;
  if (!history_.empty() && history_.back().noise_multiplier == sigma &&
      history_.back().sample_rate == q) {
    if (history_.back().steps > std::numeric_limits<std::int64_t>::max() - steps) {
      throw std::overflow_error("ApproximateGdpAccountant::step: step count overflows int64");
    }
    history_.back().steps += steps;
  } else {
    history_.push_back(MechanismSegment{sigma, q, steps});
  }
}

double ApproximateGdpAccountant::mu() const {
  // From the merged segments, not a running sum: n single steps give the same mu as one
  // n-step segment.
  double total = 0.0;
  for (const MechanismSegment& s : history_) {
    total += mu_squared(s.noise_multiplier, s.sample_rate, s.steps);
  }
  return std::sqrt(total);
}

EpsilonReport ApproximateGdpAccountant::epsilon(double delta) const {
  if (!(delta > 0.0 && delta < 1.0)) {
    throw std::invalid_argument("ApproximateGdpAccountant::epsilon: delta must be in (0, 1), got " +
                                fmt(delta));
  }
  EpsilonReport report;
  report.delta = delta;
  report.approximation = true;  // the CLT value can be below the true epsilon
  if (history_.empty()) return report;
  const double mu_total = mu();
  if (std::isnan(mu_total)) throw AccountingError("GDP accountant: mu is not a number");
  report.epsilon = gdp_epsilon(mu_total, delta);
  report.epsilon_lower = report.epsilon;
  report.epsilon_upper = report.epsilon;
  return report;
}

}  // namespace dpsgd::accounting
