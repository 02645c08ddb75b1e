#include "dpsgd/accounting/rdp_accountant.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "dpsgd/accounting/accounting_error.hpp"

namespace dpsgd::accounting {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLogSqrtPi = 0.57236494292470008707;  // log(sqrt(pi))
constexpr double kSqrt2 = 1.41421356237309504880;

// Series terms are dropped once below e^-30 (1e-13) relative to log A_alpha.
constexpr double kLogTruncation = 30.0;
// The fractional-order tail decays only polynomially (~k^-(alpha+2)) when z0 is small
// (q near 1/2 with large sigma). Past this many terms we stop after a positive term,
// which still gives an upper bound on A_alpha (alternating, decreasing tail), so the
// result can only be conservative (and the chord bound in compute_rdp caps it).
constexpr long kMaxFracTerms = 200000;
// Below this, log A from the fractional series is dominated by rounding (see compute_rdp).
constexpr double kMinReliableLogA = 1e-10;
// Orders above this get the convexity bound instead of the exact O(alpha) sums.
constexpr double kMaxExactOrder = 1e6;

std::string fmt(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

// ---- log-space arithmetic ------------------------------------------------------

// log(e^a + e^b), exact for infinities (never inf - inf).
double log_add(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == -kInf) return a;
  if (a == kInf) return kInf;
  return a + std::log1p(std::exp(b - a));
}

// log(1 + e^x).
double log1pexp(double x) {
  if (x == -kInf) return 0.0;
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// log(e^x - 1) for x >= 0.
double log_expm1(double x) {
  if (x == 0.0) return -kInf;
  return x > 40.0 ? x + std::log1p(-std::exp(-x)) : std::log(std::expm1(x));
}

// log(erfcx(x)) = x^2 + log(erfc(x)) for x >= 0, without underflow. Below 26 erfc is
// a normal double with full relative accuracy; above, the asymptotic series
// erfc(x) = e^{-x^2} / (x sqrt(pi)) * sum_n (-1)^n (2n-1)!! / (2x^2)^n is accurate to
// 1e-17 within 8 terms (its smallest term is ~e^{-x^2}).
double log_erfcx(double x) {
  if (x < 26.0) return x * x + std::log(std::erfc(x));
  const double t = 1.0 / (2.0 * x * x);
  double sum = 1.0;
  double term = 1.0;
  for (int n = 1; n < 30; ++n) {
    term *= -(2.0 * n - 1.0) * t;
    sum += term;
    if (std::fabs(term) < 1e-17) break;
  }
  return -std::log(x) - kLogSqrtPi + std::log(sum);
}

// ---- A_alpha -------------------------------------------------------------------

// log A_alpha for integer alpha >= 2 and 0 < q < 1. Since the binomial weights sum to
// one, A - 1 = sum_{k>=2} C(alpha,k) q^k (1-q)^(alpha-k) (exp((k^2-k)/(2 sigma^2)) - 1),
// a sum of non-negative terms; summing A - 1 keeps full relative accuracy when A is
// within rounding of 1 (huge sigma, tiny q), where summing A itself would not.
double log_a_int(double q, double sigma, long alpha) {
  const double inv_2s2 = 0.5 / (sigma * sigma);
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  double log_binom = 0.0;  // log C(alpha, k), built incrementally (lgamma is not reentrant)
  double log_a_minus_1 = -kInf;
  for (long k = 1; k <= alpha; ++k) {
    log_binom += std::log(static_cast<double>(alpha - k + 1)) - std::log(static_cast<double>(k));
    if (k < 2) continue;
    const double kd = static_cast<double>(k);
    const double term = log_binom + kd * log_q + static_cast<double>(alpha - k) * log_1mq +
                        log_expm1((kd * kd - kd) * inv_2s2);
    log_a_minus_1 = log_add(log_a_minus_1, term);
  }
  return log1pexp(log_a_minus_1);
}

// log A_alpha for fractional alpha > 1 and 0 < q < 1: the two series of
// Mironov-Talwar-Zhang 2019 Sec. 3.3, summed with the signs of C(alpha, k).
//
// Each term is  C * w * exp((m^2 - m) / (2 sigma^2)) * erfc(x) / 2  with m = k (first
// series, x = (k - z0) / (sqrt2 sigma)) or m = alpha - k (second, x = (z0 - m) / (sqrt2 sigma)).
// For x >= 0 the exponent and log erfc(x) ~ -x^2 are both large and cancel; using
// erfc(x) = e^{-x^2} erfcx(x) and z0 = sigma^2 L + 1/2 (L = log(1/q - 1)) the difference is
//   (m^2 - m) / (2 sigma^2) - x^2 = m L - sigma^2 L^2 / 2 - L / 2 - 1 / (8 sigma^2)
// in closed form, which stays finite (or -inf) where the raw form would give inf - inf.
double log_a_frac(double q, double sigma, double alpha) {
  const double s2 = sigma * sigma;
  const double inv_2s2 = 0.5 / s2;
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  const double big_l = log_1mq - log_q;  // log(1/q - 1), accurate for q near 1 too
  const double z0 = s2 * big_l + 0.5;
  const double inv_sqrt2_sigma = 1.0 / (kSqrt2 * sigma);
  const double g_const = -0.5 * s2 * big_l * big_l - 0.5 * big_l - 0.125 / s2;

  auto log_gauss_part = [&](double m, double x) {
    return x < 0.0 ? (m * m - m) * inv_2s2 + std::log(std::erfc(x))
                   : m * big_l + g_const + log_erfcx(x);
  };

  // The signed sum is kept in linear scale relative to exp(scale), the largest term so
  // far, with Neumaier compensation: A is ~1 + (tiny log A) when q is small or sigma
  // large, and summing up to kMaxFracTerms terms in log space (log_add per term) would
  // bury log A in accumulated rounding.
  double scale = -kInf;
  double sum = 0.0;
  double comp = 0.0;
  auto add = [&](double log_term, bool positive) {
    if (log_term == -kInf) return;
    if (log_term > scale) {
      const double f = std::exp(scale - log_term);  // 0 on the first term
      sum *= f;
      comp *= f;
      scale = log_term;
    }
    const double v = positive ? std::exp(log_term - scale) : -std::exp(log_term - scale);
    const double t = sum + v;
    comp += std::fabs(sum) >= std::fabs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  };

  double log_binom = 0.0;  // log |C(alpha, k)|
  bool positive = true;    // sign of C(alpha, k)
  for (long k = 0;; ++k) {
    if (k > 0) {
      const double r = alpha - static_cast<double>(k - 1);  // C(a,k) = C(a,k-1) (a-k+1) / k
      log_binom += std::log(std::fabs(r)) - std::log(static_cast<double>(k));
      if (r < 0.0) positive = !positive;
    }
    const double kd = static_cast<double>(k);
    const double j = alpha - kd;
    const double s0 = log_binom + kd * log_q + j * log_1mq - kLn2 +
                      log_gauss_part(kd, (kd - z0) * inv_sqrt2_sigma);
    const double s1 =
        log_binom + j * log_q + kd * log_1mq - kLn2 + log_gauss_part(j, (z0 - j) * inv_sqrt2_sigma);
    if (std::isnan(s0) || std::isnan(s1)) return std::numeric_limits<double>::quiet_NaN();
    if (s0 == kInf || s1 == kInf) return kInf;  // sigma so small that A overflows
    add(s0, positive);
    add(s1, positive);
    // From k = ceil(alpha) on the signs alternate and |terms| decrease (|C(a,k)| does,
    // and both integrands carry a factor <= 1 raised to k), so a partial sum ending in
    // a positive term is an upper bound on A and misses it by less than that term.
    if (positive && kd > alpha) {
      const double total = scale + std::log(sum + comp);  // log A so far (an upper bound)
      // Past the point where even this upper bound is below what the series resolves,
      // compute_rdp uses the chord instead; no need to go on.
      if (total < kMinReliableLogA) return total;
      // Dropping terms below e^cut changes log A by < e^-30 relative to log A itself
      // (a cut relative to A, TF Privacy's, costs ~1e-6 of a small log A at tiny q).
      const double cut = total + std::log(total) - kLogTruncation;
      if (log_add(s0, s1) < cut || k >= kMaxFracTerms) return total;
    }
  }
}

void validate_q(double q, const char* who) {
  if (!(q > 0.0 && q <= 1.0)) {
    throw std::invalid_argument(std::string(who) + ": sampling rate q must be in (0, 1], got " +
                                fmt(q));
  }
}

void validate_sigma(double sigma, const char* who) {
  if (!(sigma >= 0.0) || std::isinf(sigma)) {
    throw std::invalid_argument(
        std::string(who) + ": noise multiplier sigma must be finite and >= 0, got " + fmt(sigma));
  }
}

void validate_steps(std::int64_t steps, const char* who) {
  if (steps < 0) {
    throw std::invalid_argument(std::string(who) + ": steps must be >= 0, got " +
                                std::to_string(steps));
  }
}

void validate_delta(double delta, const char* who) {
  if (!(delta > 0.0 && delta < 1.0)) {
    throw std::invalid_argument(std::string(who) + ": delta must be in (0, 1), got " + fmt(delta));
  }
}

void validate_orders(const std::vector<double>& orders, const char* who) {
  if (orders.empty()) throw std::invalid_argument(std::string(who) + ": no RDP orders");
  for (double a : orders) {
    if (!(a > 1.0)) {
      throw std::invalid_argument(std::string(who) + ": RDP orders must be > 1, got " + fmt(a));
    }
  }
}

}  // namespace

std::string to_string(RdpConversion conversion) {
  return conversion == RdpConversion::kClassic ? "classic" : "improved";
}

RdpConversion parse_rdp_conversion(const std::string& name) {
  if (name == "classic") return RdpConversion::kClassic;
  if (name == "improved") return RdpConversion::kImproved;
  throw std::invalid_argument("unknown RDP conversion '" + name +
                              "' (expected 'classic' or 'improved')");
}

std::vector<double> default_rdp_orders() {
  // Built exactly as Opacus builds them (1 + x / 10.0), so that the orders that are
  // whole numbers (2.0, 3.0, ...) come out exactly integral and take the integer path.
  std::vector<double> orders;
  orders.reserve(99 + 52);
  for (int x = 1; x < 100; ++x) orders.push_back(1.0 + x / 10.0);
  for (int a = 12; a < 64; ++a) orders.push_back(static_cast<double>(a));
  return orders;
}

double compute_rdp(double q, double sigma, double alpha) {
  validate_q(q, "compute_rdp");
  if (!(sigma >= 0.0)) {
    throw std::invalid_argument("compute_rdp: noise multiplier sigma must be >= 0, got " +
                                fmt(sigma));
  }
  if (!(alpha > 1.0)) {
    throw std::invalid_argument("compute_rdp: RDP order alpha must be > 1, got " + fmt(alpha));
  }
  const double s2 = sigma * sigma;
  if (s2 == 0.0 || std::isinf(alpha)) return kInf;  // no noise (or sigma^2 underflows)
  if (q == 1.0) return alpha / (2.0 * s2);          // the plain Gaussian mechanism

  // Joint convexity of exp((alpha-1) D_alpha) gives A <= 1 - q + q e^{alpha(alpha-1)/(2 sigma^2)},
  // a valid (looser) RDP bound. It clamps rounding and truncation in the series, and
  // answers outright when sigma is so large that the bound is already 0.
  const double e = alpha * (alpha - 1.0) / (2.0 * s2);
  const double log_bound_a =
      e < 1.0 ? std::log1p(q * std::expm1(e)) : log_add(std::log1p(-q), std::log(q) + e);
  const double bound = log_bound_a / (alpha - 1.0);
  if (bound == 0.0) return 0.0;
  // Both exact forms take O(alpha) terms. Orders this large are never the optimum for
  // any delta of interest, so they get the (valid, looser) bound instead.
  if (alpha > kMaxExactOrder) return bound;

  double log_a;
  if (alpha == std::floor(alpha)) {
    log_a = log_a_int(q, sigma, static_cast<long>(alpha));
  } else {
    // log A_alpha is convex in alpha (a cumulant generating function of the privacy
    // loss) with log A_1 = 0, so the chord between the neighbouring integer orders,
    // which the integer path gives to full relative accuracy, bounds it from above.
    // The series sums terms of size ~1 to get A ~ 1 + tiny and so carries an absolute
    // error of ~1e-15 in log A; where its result is that small, the chord is used.
    const double n = std::floor(alpha);
    const double log_a_lo = n < 2.0 ? 0.0 : log_a_int(q, sigma, static_cast<long>(n));
    const double log_a_hi = log_a_int(q, sigma, static_cast<long>(n) + 1);
    const double chord = (n + 1.0 - alpha) * log_a_lo + (alpha - n) * log_a_hi;
    const double series = log_a_frac(q, sigma, alpha);
    log_a = series > kMinReliableLogA ? std::min(series, chord) : chord;
  }
  const double rdp = log_a / (alpha - 1.0);
  if (std::isnan(rdp)) return bound;  // never expected; the bound is always valid
  return std::clamp(rdp, 0.0, bound);
}

std::vector<double> compute_rdp_curve(double q, double sigma, const std::vector<double>& orders) {
  std::vector<double> curve;
  curve.reserve(orders.size());
  for (double a : orders) curve.push_back(compute_rdp(q, sigma, a));
  return curve;
}

double classic_rdp_to_epsilon(double rdp, double alpha, double log_delta) {
  if (std::isinf(alpha)) return rdp;       // the limit alpha -> inf
  return rdp - log_delta / (alpha - 1.0);  // Mironov 2017, Prop. 3
}

double improved_rdp_to_epsilon(double rdp, double alpha, double log_delta) {
  if (std::isinf(alpha)) return rdp;  // the limit alpha -> inf
  // Balle et al. 2020, Thm 21; log1p(-1/alpha) = log((alpha - 1) / alpha).
  return rdp + std::log1p(-1.0 / alpha) - (log_delta + std::log(alpha)) / (alpha - 1.0);
}

RdpEpsilon rdp_to_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp,
                          double delta, RdpConversion conversion) {
  validate_delta(delta, "rdp_to_epsilon");
  validate_orders(orders, "rdp_to_epsilon");
  if (orders.size() != rdp.size()) {
    throw std::invalid_argument("rdp_to_epsilon: " + std::to_string(orders.size()) +
                                " orders but " + std::to_string(rdp.size()) + " RDP values");
  }
  const double log_delta = std::log(delta);
  RdpEpsilon best{kInf, 0.0};
  for (std::size_t k = 0; k < orders.size(); ++k) {
    const double a = orders[k];
    const double r = rdp[k];
    if (std::isnan(r)) continue;
    const double eps = conversion == RdpConversion::kClassic
                           ? classic_rdp_to_epsilon(r, a, log_delta)
                           : improved_rdp_to_epsilon(r, a, log_delta);
    if (eps < best.epsilon) best = {eps, a};
  }
  if (best.epsilon < 0.0) best.epsilon = 0.0;  // (eps < 0, delta)-DP implies (0, delta)-DP
  return best;
}

RdpEpsilon rdp_epsilon(double sigma, double q, std::int64_t steps, double delta,
                       RdpConversion conversion, const std::vector<double>& orders) {
  validate_sigma(sigma, "rdp_epsilon");
  validate_q(q, "rdp_epsilon");
  validate_steps(steps, "rdp_epsilon");
  validate_delta(delta, "rdp_epsilon");
  validate_orders(orders, "rdp_epsilon");
  if (steps == 0) return {0.0, 0.0};
  std::vector<double> rdp = compute_rdp_curve(q, sigma, orders);
  for (double& r : rdp) r *= static_cast<double>(steps);
  return rdp_to_epsilon(orders, rdp, delta, conversion);
}

// ---- RdpAccountant ------------------------------------------------------------

RdpAccountant::RdpAccountant(RdpConversion conversion)
    : RdpAccountant(conversion, default_rdp_orders()) {}

RdpAccountant::RdpAccountant(RdpConversion conversion, std::vector<double> orders)
    : conversion_(conversion), orders_(std::move(orders)) {
  validate_orders(orders_, "RdpAccountant");
}

void RdpAccountant::step(double sigma, double q, std::int64_t steps) {
  validate_sigma(sigma, "RdpAccountant::step");
  validate_q(q, "RdpAccountant::step");
  validate_steps(steps, "RdpAccountant::step");
  if (steps == 0) return;

  // Compute (or find) the curve before touching any state, so a throw leaves it intact.
  const std::pair<double, double> key{sigma, q};
  auto it = use_index_.find(key);
  if (it == use_index_.end()) {
    CurveUse use{compute_rdp_curve(q, sigma, orders_), 0};
    uses_.push_back(std::move(use));
    it = use_index_.emplace(key, uses_.size() - 1).first;
  }
  CurveUse& use = uses_[it->second];
  if (use.steps > std::numeric_limits<std::int64_t>::max() - steps) {
    throw std::overflow_error("RdpAccountant::step: step count overflows int64");
  }
  use.steps += steps;

  if (!history_.empty() && history_.back().noise_multiplier == sigma &&
      history_.back().sample_rate == q) {
    history_.back().steps += steps;
  } else {
    history_.push_back(MechanismSegment{sigma, q, steps});
  }
}

std::vector<double> RdpAccountant::rdp() const {
  std::vector<double> total(orders_.size(), 0.0);
  for (const CurveUse& use : uses_) {
    const double n = static_cast<double>(use.steps);  // > 0, so never 0 * inf
    for (std::size_t k = 0; k < total.size(); ++k) total[k] += n * use.curve[k];
  }
  return total;
}

EpsilonReport RdpAccountant::epsilon(double delta) const {
  validate_delta(delta, "RdpAccountant::epsilon");
  EpsilonReport report;
  report.delta = delta;
  report.best_order = 0.0;
  report.rdp_conversion = to_string(conversion_);
  if (uses_.empty()) return report;  // nothing recorded: epsilon 0
  const RdpEpsilon e = rdp_to_epsilon(orders_, rdp(), delta, conversion_);
  // NaN never reaches here (rdp_to_epsilon skips NaN orders, and +inf is the honest
  // answer when every order is); kept as the accountant's last word.
  if (std::isnan(e.epsilon)) throw AccountingError("RDP accountant: epsilon is not a number");
  report.epsilon = e.epsilon;
  report.best_order = e.best_order;
  report.epsilon_lower = e.epsilon;
  report.epsilon_upper = e.epsilon;
  return report;
}

}  // namespace dpsgd::accounting
