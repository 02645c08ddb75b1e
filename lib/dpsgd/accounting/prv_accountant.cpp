#include "dpsgd/accounting/prv_accountant.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include "dpsgd/accounting/accounting_error.hpp"
#include "dpsgd/accounting/rdp_accountant.hpp"

namespace dpsgd::accounting {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;
constexpr double kInvSqrt2 = 0.70710678118654752440;
// Opacus refuses a delta below np.finfo(np.longdouble).eps * N (x86 80-bit long double).
constexpr double kLongDoubleEps = 1.0842021724855044e-19;

std::string fmt(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

[[noreturn]] void fail(const char* who, const std::string& what) {
  throw std::invalid_argument(std::string(who) + ": " + what);
}

void validate_segment(double sigma, double q, std::int64_t steps, const char* who) {
  if (!(sigma >= 0.0) || std::isinf(sigma)) {
    fail(who, "noise multiplier sigma must be finite and >= 0, got " + fmt(sigma));
  }
  if (!(q > 0.0 && q <= 1.0)) fail(who, "sampling rate q must be in (0, 1], got " + fmt(q));
  if (steps < 0) fail(who, "steps must be >= 0, got " + std::to_string(steps));
}

void validate_query(double delta, double eps_error, double delta_error, const char* who) {
  if (!(delta > 0.0 && delta < 1.0)) fail(who, "delta must be in (0, 1), got " + fmt(delta));
  if (!(eps_error > 0.0) || std::isinf(eps_error)) {
    fail(who, "eps_error must be finite and > 0, got " + fmt(eps_error));
  }
  if (!(delta_error > 0.0 && delta_error < delta)) {
    fail(who,
         "delta_error must be in (0, delta), got " + fmt(delta_error) + " for delta " + fmt(delta));
  }
}

void validate_grid_limit(std::int64_t max_grid_points, const char* who) {
  if (max_grid_points < 16) {
    fail(who, "max_grid_points must be >= 16, got " + std::to_string(max_grid_points));
  }
}

// log(e^x - 1) for x > 0.
double log_expm1(double x) {
  return x > 40.0 ? x + std::log1p(-std::exp(-x)) : std::log(std::expm1(x));
}

// ---- the one-step PRV ------------------------------------------------------------

// Y = log(1 - q + q exp((2X - 1) / (2 sigma^2))), X ~ (1-q) N(0, s^2) + q N(1, s^2).
// Y <= t  <=>  X <= z sigma^2 + 1/2  with z = log((e^t - (1-q)) / q), for t > log(1-q).
struct SubsampledGaussianPrv {
  double q;
  double sigma;
  double lo;         // log(1 - q): the support is (lo, inf); -inf when q == 1
  double log_ratio;  // log((1-q)/q)
  double a_scale;    // sigma / sqrt2
  double a_offset;   // 1 / (2 sqrt2 sigma)

  SubsampledGaussianPrv(double q_, double sigma_)
      : q(q_),
        sigma(sigma_),
        lo(q_ == 1.0 ? -kInf : std::log1p(-q_)),
        log_ratio(q_ == 1.0 ? 0.0 : std::log1p(-q_) - std::log(q_)),
        a_scale(sigma_ * kInvSqrt2),
        a_offset(0.5 * kInvSqrt2 / sigma_) {}

  // F(t) = P(Y <= t) and S(t) = P(Y > t), each accurate in its own tail.
  void cdf_sf(double t, double& cdf, double& sf) const {
    if (!(t > lo)) {
      cdf = 0.0;
      sf = 1.0;
      return;
    }
    if (t == kInf) {
      cdf = 1.0;
      sf = 0.0;
      return;
    }
    // e^t - (1-q) = (1-q) expm1(t - lo): no cancellation next to the support's edge.
    const double z = q == 1.0 ? t : log_ratio + log_expm1(t - lo);
    const double zs = z * a_scale;
    // q part: X ~ N(1, s^2): P(X <= z s^2 + 1/2) = Phi((z s^2 - 1/2) / s) = erfc(-A) / 2.
    // 1-q part: X ~ N(0, s^2): Phi((z s^2 + 1/2) / s) = erfc(-B) / 2.
    const double a = zs - a_offset;
    const double b = zs + a_offset;
    const double ta = 0.5 * std::erfc(std::fabs(a));  // the smaller of the two tails
    const double tb = 0.5 * std::erfc(std::fabs(b));
    const double fa = a >= 0.0 ? 1.0 - ta : ta;
    const double sa = a >= 0.0 ? ta : 1.0 - ta;
    const double fb = b >= 0.0 ? 1.0 - tb : tb;
    const double sb = b >= 0.0 ? tb : 1.0 - tb;
    const double p = 1.0 - q;
    cdf = q * fa + p * fb;
    sf = q * sa + p * sb;
  }
};

// P(a < Y <= b) from (F, S) at both ends, differencing the smaller tail.
double interval_mass(double f_a, double s_a, double f_b, double s_b) {
  const double m = f_b <= 0.5 ? f_b - f_a : s_a - s_b;
  return m > 0.0 ? m : 0.0;
}

// ---- adaptive Gauss-Kronrod (7-point Gauss, 15-point Kronrod) -------------------------

constexpr double kXgk[8] = {
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245, 0.0};
constexpr double kWgk[8] = {
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
constexpr double kWg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                           0.381830050505118944950369775488975,
                           0.417959183673469387755102040816327};

struct Panel {
  double a, b, value, error, magnitude;  // magnitude: the K15 estimate of int |f|
};

template <typename Fn>
Panel gk15(const Fn& f, double a, double b) {
  const double c = 0.5 * (a + b);
  const double r = 0.5 * (b - a);
  const double fc = f(c);
  double kronrod = fc * kWgk[7];
  double gauss = fc * kWg[3];
  double magnitude = std::fabs(fc) * kWgk[7];
  for (int j = 0; j < 7; ++j) {
    const double dx = r * kXgk[j];
    const double f1 = f(c - dx);
    const double f2 = f(c + dx);
    kronrod += kWgk[j] * (f1 + f2);
    magnitude += kWgk[j] * (std::fabs(f1) + std::fabs(f2));
    if (j % 2 == 1) gauss += kWg[j / 2] * (f1 + f2);
  }
  return {a, b, kronrod * r, std::fabs((kronrod - gauss) * r), magnitude * std::fabs(r)};
}

// Global adaptive integration over [breaks.front(), breaks.back()]: the panel with the
// largest error estimate (|K15 - G7|, pessimistic for smooth integrands) is bisected
// until the total estimate is below rel_tol * int |f| (relative to the integral of |f|,
// as the integrands here cancel).
template <typename Fn>
double integrate(const Fn& f, const std::vector<double>& breaks, double rel_tol) {
  std::vector<Panel> panels;
  for (std::size_t i = 0; i + 1 < breaks.size(); ++i) {
    if (breaks[i + 1] > breaks[i]) panels.push_back(gk15(f, breaks[i], breaks[i + 1]));
  }
  auto by_error = [](const Panel& x, const Panel& y) { return x.error < y.error; };
  std::make_heap(panels.begin(), panels.end(), by_error);
  double error = 0.0;
  double magnitude = 0.0;
  for (const Panel& p : panels) {
    error += p.error;
    magnitude += p.magnitude;
  }
  for (int iter = 0; iter < 4000 && !panels.empty() && error > rel_tol * magnitude; ++iter) {
    std::pop_heap(panels.begin(), panels.end(), by_error);
    const Panel worst = panels.back();
    panels.pop_back();
    const double mid = 0.5 * (worst.a + worst.b);
    if (!(mid > worst.a && mid < worst.b)) {  // cannot split further: accept it
      panels.push_back({worst.a, worst.b, worst.value, 0.0, worst.magnitude});
      std::push_heap(panels.begin(), panels.end(), by_error);
      error -= worst.error;
      continue;
    }
    const Panel left = gk15(f, worst.a, mid);
    const Panel right = gk15(f, mid, worst.b);
    error += left.error + right.error - worst.error;
    magnitude += left.magnitude + right.magnitude - worst.magnitude;
    panels.push_back(left);
    std::push_heap(panels.begin(), panels.end(), by_error);
    panels.push_back(right);
    std::push_heap(panels.begin(), panels.end(), by_error);
  }
  // Sum small to large for a little less rounding.
  std::sort(panels.begin(), panels.end(),
            [](const Panel& x, const Panel& y) { return std::fabs(x.value) < std::fabs(y.value); });
  double value = 0.0;
  for (const Panel& p : panels) value += p.value;
  return value;
}

// Mean of Y truncated to [t_min, t_max], integrated over the Gaussian variable X rather
// than over t (robust however the mass of Y is spread), one mixture component at a time
// in its standardised variable v (x = centre + sigma v; no overflow for tiny sigma):
//   mass * mean = sum_c w_c int y(c + s v) phi(v) dv  over x(t_min) < x <= x(t_max),
//   y(x) = log(1 - q + q e^{(2x-1)/(2 s^2)}),  x(t) = s^2 z(t) + 1/2,
// with (c, w_c) = (0, 1-q) and (1, q). Breakpoints every unit of v (the density) and
// every sigma around the point where y turns from ~log(1-q) to linear (its kink).
double truncated_mean(const SubsampledGaussianPrv& prv, double t_min, double t_max, double mass) {
  const double q = prv.q;
  const double s = prv.sigma;
  const double s2 = s * s;
  auto x_of_t = [&](double t) {
    if (!(t > prv.lo)) return -kInf;
    const double z = q == 1.0 ? t : prv.log_ratio + log_expm1(t - prv.lo);
    return s2 * z + 0.5;
  };
  const double x_lo = x_of_t(t_min);
  const double x_hi = x_of_t(t_max);
  const double log_q = std::log(q);
  auto y_of = [&](double centre, double v) {
    // u = (2x - 1) / (2 s^2) with x = centre + s v.
    const double u = (centre - 0.5) / s2 + v / s;
    if (q == 1.0) return u;
    if (u < 700.0) return std::log1p(q * std::expm1(u));
    return u + log_q + std::log1p((1.0 - q) / q * std::exp(-u));
  };
  double total = 0.0;
  for (int c = 0; c < 2; ++c) {
    const double centre = c;
    const double weight = c == 0 ? 1.0 - q : q;
    if (weight == 0.0) continue;
    // v range: the truncation, and +-40 (phi(40) ~ e^-800).
    const double v_lo = std::max(-40.0, (x_lo - centre) / s);
    const double v_hi = std::min(40.0, (x_hi - centre) / s);
    if (!(v_hi > v_lo)) continue;
    std::vector<double> b{v_lo, v_hi};
    for (int k = -40; k <= 40; ++k) b.push_back(k);
    if (q < 1.0) {
      const double v_kink = (s2 * prv.log_ratio + 0.5 - centre) / s;  // q e^u = 1 - q
      for (int k = -40; k <= 40; ++k) b.push_back(v_kink + k * s);
    }
    std::sort(b.begin(), b.end());
    std::vector<double> breaks;
    for (double v : b) {
      if (v >= v_lo && v <= v_hi && (breaks.empty() || v > breaks.back())) breaks.push_back(v);
    }
    auto integrand = [&](double v) {
      const double density = 0.39894228040143267794 * std::exp(-0.5 * v * v);
      return density == 0.0 ? 0.0 : y_of(centre, v) * density;
    };
    total += weight * integrate(integrand, breaks, 1e-15);
  }
  return total / mass;
}

// ---- radix-2 FFT ---------------------------------------------------------------------

using cd = std::complex<double>;

inline cd mul(cd x, cd y) {
  return {x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real()};
}

// Real FFT of length m = 2^p (p >= 2) through a complex FFT of length m/2.
class RealFft {
 public:
  explicit RealFft(std::size_t m) : m_(m), h_(m / 2), w_(m / 2) {
    // w_[k] = exp(-2 pi i k / m), k < m/2, from one octant of direct evaluations.
    const std::size_t q8 = m / 8;
    const std::size_t q4 = m / 4;
    std::vector<double> c(q8 + 1), s(q8 + 1);
    for (std::size_t k = 0; k <= q8; ++k) {
      const double angle = 2.0 * kPi * static_cast<double>(k) / static_cast<double>(m);
      c[k] = std::cos(angle);
      s[k] = std::sin(angle);
    }
    for (std::size_t k = 0; k < h_; ++k) {
      double ck, sk;
      if (k <= q8) {
        ck = c[k];
        sk = s[k];
      } else if (k <= q4) {
        ck = s[q4 - k];
        sk = c[q4 - k];
      } else {
        const std::size_t r = h_ - k;  // angle pi - x
        if (r <= q8) {
          ck = -c[r];
          sk = s[r];
        } else {
          ck = -s[q4 - r];
          sk = c[q4 - r];
        }
      }
      w_[k] = cd(ck, -sk);
    }
  }

  [[nodiscard]] std::size_t size() const { return m_; }

  // out[0..m/2] = sum_j in[j] exp(-2 pi i j k / m).
  void forward(const double* in, cd* out) const {
    std::vector<cd> z(h_);
    for (std::size_t j = 0; j < h_; ++j) z[j] = cd(in[2 * j], in[2 * j + 1]);
    complex_fft(z.data(), false);
    for (std::size_t k = 0; k <= h_; ++k) {
      const cd zk = z[k % h_];
      const cd zc = std::conj(z[(h_ - k) % h_]);
      const cd e = 0.5 * (zk + zc);
      const cd d = 0.5 * (zk - zc);
      const cd o(d.imag(), -d.real());  // d / i
      const cd wk = k < h_ ? w_[k] : cd(-1.0, 0.0);
      out[k] = e + mul(wk, o);
    }
  }

  // out[0..m-1] = (1/m) sum_k X_k exp(2 pi i j k / m), X given for k = 0..m/2 (Hermitian).
  void inverse(const cd* in, double* out) const {
    std::vector<cd> z(h_);
    for (std::size_t k = 0; k < h_; ++k) {
      const cd xk = in[k];
      const cd xc = std::conj(in[h_ - k]);
      const cd e = 0.5 * (xk + xc);
      const cd o = mul(0.5 * (xk - xc), std::conj(w_[k]));
      z[k] = e + cd(-o.imag(), o.real());  // e + i o
    }
    complex_fft(z.data(), true);
    const double scale = 1.0 / static_cast<double>(h_);
    for (std::size_t j = 0; j < h_; ++j) {
      out[2 * j] = z[j].real() * scale;
      out[2 * j + 1] = z[j].imag() * scale;
    }
  }

 private:
  // In-place iterative radix-2 decimation-in-time FFT of length h = m/2 (unnormalised).
  void complex_fft(cd* a, bool inverse) const {
    const std::size_t n = h_;
    for (std::size_t i = 1, j = 0; i < n; ++i) {
      std::size_t bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) std::swap(a[i], a[j]);
    }
    for (std::size_t len = 2; len <= n; len <<= 1) {
      const std::size_t half = len / 2;
      const std::size_t stride = m_ / len;  // exp(-2 pi i j / len) = w_[j * stride]
      for (std::size_t i = 0; i < n; i += len) {
        cd* lo = a + i;
        cd* hi = a + i + half;
        for (std::size_t j = 0; j < half; ++j) {
          const cd w = inverse ? std::conj(w_[j * stride]) : w_[j * stride];
          const cd v = mul(hi[j], w);
          const cd u = lo[j];
          lo[j] = u + v;
          hi[j] = u - v;
        }
      }
    }
  }

  std::size_t m_;
  std::size_t h_;
  std::vector<cd> w_;
};

// x * x = hi + lo exactly (Dekker's product with Veltkamp's split; no FMA needed).
inline void square_exact(double x, double& hi, double& lo) {
  constexpr double kSplit = 134217729.0;  // 2^27 + 1
  hi = x * x;
  const double t = kSplit * x;
  const double xh = t - (t - x);
  const double xl = x - xh;
  lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl;
}

// z^n for a Fourier coefficient of a pmf (|z| <= 1), n >= 1, in log-polar form: the n-th
// power multiplies every error in log|z| and arg z by n, so both are computed to full
// relative accuracy (|z|^2 - 1 from exact squares, the phase multiplied in long double);
// 0 where the magnitude underflows. With the pmf centred on index 0 the significant
// (low-frequency) coefficients are close to 1 and their phases small.
cd complex_power(cd z, std::int64_t n) {
  const double re = z.real();
  const double im = z.imag();
  const double nd = static_cast<double>(n);
  const double r2 = re * re + im * im;
  if (r2 == 0.0 || nd * 0.5 * std::log(r2) < -760.0) return {0.0, 0.0};
  double log_r;
  if (r2 > 0.5 && r2 < 2.0 && re > 0.5) {
    double re_hi, re_lo, im_hi, im_lo;
    square_exact(re, re_hi, re_lo);
    square_exact(im, im_hi, im_lo);
    // re_hi - 1 is exact (Sterbenz: re_hi in [0.25, 2]).
    const double r2m1 = ((re_hi - 1.0) + im_hi) + (re_lo + im_lo);
    log_r = 0.5 * std::log1p(r2m1);
  } else {
    log_r = 0.5 * std::log(r2);
  }
  const double log_mag = nd * log_r;
  if (log_mag < -746.0) return {0.0, 0.0};
  const double mag = std::exp(log_mag);
  const long double phase =
      static_cast<long double>(n) * static_cast<long double>(std::atan2(im, re));
  return {mag * static_cast<double>(std::cos(phase)), mag * static_cast<double>(std::sin(phase))};
}

std::size_t next_pow2(std::size_t n) {
  std::size_t m = 4;
  while (m < n) m <<= 1;
  return m;
}

// ---- composition ----------------------------------------------------------------------

// One distinct (sigma, q) pair of a history with its total step count and one-step RDP
// curve (default orders).
struct PairSpec {
  double sigma;
  double q;
  std::int64_t steps;
  const std::vector<double>* rdp_curve;
};

// The composed discrete PRV: pmf[j] at t_j = t0 + j * mesh.
struct ComposedPrv {
  bool empty = false;     // nothing recorded: epsilon 0
  bool infinite = false;  // sigma = 0 somewhere (or a domain that overflows): epsilon inf
  std::vector<double> pmf;
  double t0 = 0.0;
  double mesh = 0.0;
  double eps_error = 0.0;
  double delta_error = 0.0;
  double expected_mean = 0.0;  // sum over pairs of steps * the truncated continuous mean
};

}  // namespace

struct PrvAccountant::Cache {
  std::mutex mutex;
  // Key of the composed distribution below.
  std::vector<std::tuple<double, double, std::int64_t>> key_pairs;
  double key_eps_error = 0.0;
  double key_delta_error = 0.0;
  std::int64_t key_max_grid = 0;
  std::shared_ptr<const ComposedPrv> composed;
  std::shared_ptr<const RealFft> fft;  // twiddles of the last transform size
};

namespace {

// Total step count of the pairs; sets out->infinite if any pair with steps has sigma 0.
std::int64_t total_steps(const std::vector<PairSpec>& pairs, ComposedPrv* out) {
  std::int64_t total = 0;
  for (const PairSpec& p : pairs) {
    if (p.steps == 0) continue;
    if (p.sigma == 0.0) out->infinite = true;
    if (total > std::numeric_limits<std::int64_t>::max() - p.steps) {
      throw std::overflow_error("PRV accountant: total step count overflows int64");
    }
    total += p.steps;
  }
  return total;
}

// Half-width L of the domain (Opacus' compute_safe_domain_size): the RDP epsilon of the
// whole history at delta_error / 4 and of one step of each pair at
// delta_error / (8 * total), the larger one, then max(that, eps_error) + 3.
double domain_half_width(const std::vector<PairSpec>& pairs, std::int64_t total, double eps_error,
                         double delta_error) {
  const std::vector<double> orders = default_rdp_orders();
  std::vector<double> total_rdp(orders.size(), 0.0);
  double l_max = 0.0;
  for (const PairSpec& p : pairs) {
    if (p.steps == 0) continue;
    for (std::size_t k = 0; k < orders.size(); ++k) {
      total_rdp[k] += static_cast<double>(p.steps) * (*p.rdp_curve)[k];
    }
    const double one =
        rdp_to_epsilon(orders, *p.rdp_curve, delta_error / (8.0 * static_cast<double>(total)),
                       RdpConversion::kImproved)
            .epsilon;
    l_max = std::max(l_max, one);
  }
  l_max = std::max(
      l_max,
      rdp_to_epsilon(orders, total_rdp, delta_error / 4.0, RdpConversion::kImproved).epsilon);
  return std::max(l_max, eps_error) + 3.0;
}

// The grid t_i = (i - K) mesh, i = 0..N-1, N = 2K + 2, over [t_min, t_max].
struct Grid {
  double mesh = 0.0;
  std::int64_t kk = 0;  // K
  std::int64_t n_grid = 0;
  double t_min = 0.0;
  double t_max = 0.0;
  double eps_error = 0.0;  // the requested one, or wider if the mesh had to be coarsened
};

Grid make_grid(double big_l, std::int64_t total, double eps_error, double delta_error,
               std::int64_t max_grid) {
  Grid g;
  g.eps_error = eps_error;
  const double spread = std::sqrt(static_cast<double>(total) * std::log(12.0 / delta_error) / 2.0);
  double mesh = eps_error / spread;
  const double max_k = static_cast<double>((max_grid - 2) / 2);
  double k_real = std::ceil(big_l / mesh);
  if (!(k_real <= max_k)) {  // coarsen: the error bound widens with the mesh
    mesh = big_l / max_k * (1.0 + 1e-12);
    k_real = std::ceil(big_l / mesh);
    g.eps_error = mesh * spread;
  }
  g.mesh = mesh;
  g.kk = static_cast<std::int64_t>(k_real);
  g.n_grid = 2 * g.kk + 2;
  g.t_min = -static_cast<double>(g.kk) * mesh;
  g.t_max = static_cast<double>(g.kk + 1) * mesh;
  return g;
}

// Writes the truncated, renormalised cell probabilities of one pair's PRV into
// work[0..N-1] (cell i is [t_i - mesh/2, t_i + mesh/2] clipped to [t_min, t_max]) and
// returns their mean on the grid (Neumaier-compensated sum).
double discretise(const SubsampledGaussianPrv& prv, const Grid& g, double mass, double f_lo,
                  double s_lo, double f_hi, double s_hi, std::vector<double>& work) {
  const std::size_t ng = static_cast<std::size_t>(g.n_grid);
  std::fill(work.begin(), work.end(), 0.0);
  double mean_d = 0.0;
  double mean_d_comp = 0.0;  // Neumaier compensation
  for (std::size_t i = 0; i < ng; ++i) {
    double f_next = f_hi;
    double s_next = s_hi;
    if (i + 1 < ng) {
      prv.cdf_sf((static_cast<double>(i) - static_cast<double>(g.kk) + 0.5) * g.mesh, f_next,
                 s_next);
    }
    const double pi = interval_mass(f_lo, s_lo, f_next, s_next) / mass;
    f_lo = f_next;
    s_lo = s_next;
    work[i] = pi;
    const double term = (static_cast<double>(i) - static_cast<double>(g.kk)) * g.mesh * pi;
    const double t = mean_d + term;
    mean_d_comp += std::fabs(mean_d) >= std::fabs(term) ? (mean_d - t) + term : (term - t) + mean_d;
    mean_d = t;
  }
  return mean_d + mean_d_comp;
}

// One pair's discretised PRV in `work`, with the shift that moves its discrete mean onto
// the continuous truncated mean (adaptive Gauss-Kronrod); returns that shift and the
// grid mean through `mean_d`.
double discretise_pair(const PairSpec& p, const Grid& g, std::vector<double>& work,
                       double* mean_d) {
  const SubsampledGaussianPrv prv(p.q, p.sigma);
  double f_lo, s_lo, f_hi, s_hi;
  prv.cdf_sf(g.t_min, f_lo, s_lo);
  prv.cdf_sf(g.t_max, f_hi, s_hi);
  const double mass = interval_mass(f_lo, s_lo, f_hi, s_hi);
  if (!(mass > 0.0)) {  // never expected: L bounds the loss from RDP
    throw AccountingError("PRV accountant: no probability mass on the grid [" + fmt(g.t_min) +
                          ", " + fmt(g.t_max) + "] for sigma " + fmt(p.sigma) + ", q " + fmt(p.q));
  }
  *mean_d = discretise(prv, g, mass, f_lo, s_lo, f_hi, s_hi, work);
  const double mean_c = truncated_mean(prv, g.t_min, g.t_max, mass);
  const double shift = mean_c - *mean_d;
  if (!(std::fabs(shift) < g.mesh / 2.0)) {
    throw AccountingError(
        "PRV accountant: the discretised mean differs from the continuous mean by " + fmt(shift) +
        " (more than half the mesh " + fmt(g.mesh) + ") for sigma " + fmt(p.sigma) + ", q " +
        fmt(p.q));
  }
  return shift;
}

// The FFT of the given transform size, reusing the cached one when it matches.
std::shared_ptr<const RealFft> fft_of_size(std::size_t m,
                                           std::shared_ptr<const RealFft>* fft_cache) {
  std::shared_ptr<const RealFft> fft = *fft_cache;
  if (!fft || fft->size() != m) {
    fft = std::make_shared<const RealFft>(m);
    *fft_cache = fft;
  }
  return fft;
}

// Composes the discretised PRVs of all pairs on grid `g`: each pmf, centred on index 0,
// is transformed, raised to its step count and multiplied into one spectrum, whose
// inverse is read back onto the grid. Fills out->pmf and out->t0.
void convolve_pairs(const std::vector<PairSpec>& pairs, std::int64_t total, const Grid& g,
                    const RealFft& fft, ComposedPrv* out) {
  const std::size_t m = fft.size();
  const std::size_t ng = static_cast<std::size_t>(g.n_grid);
  std::vector<double> work(m + 2, 0.0);
  std::vector<cd> spectrum(m / 2 + 1, cd(1.0, 0.0));
  std::vector<cd> x(m / 2 + 1);
  double total_shift = 0.0;
  std::uint64_t centre_sum = 0;  // sum over pairs of steps * centre (mod m)
  for (const PairSpec& p : pairs) {
    if (p.steps == 0) continue;
    double mean_d = 0.0;
    const double shift = discretise_pair(p, g, work, &mean_d);
    total_shift += static_cast<double>(p.steps) * shift;
    out->expected_mean += static_cast<double>(p.steps) * (mean_d + shift);
    // Centre the pmf on index 0 (cyclically): the spectrum's significant coefficients
    // then have small phases, which the n-th power multiplies (see complex_power).
    const double mean_index = static_cast<double>(g.kk) + mean_d / g.mesh;
    const std::size_t centre = static_cast<std::size_t>(
        std::clamp(std::llround(mean_index), 0LL, static_cast<long long>(ng) - 1));
    std::rotate(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(centre),
                work.begin() + static_cast<std::ptrdiff_t>(m));
    centre_sum = (centre_sum + (static_cast<std::uint64_t>(p.steps) % m) * centre) % m;
    fft.forward(work.data(), x.data());
    for (std::size_t k = 0; k <= m / 2; ++k) {
      if (spectrum[k] == cd(0.0, 0.0)) continue;
      spectrum[k] = mul(spectrum[k], complex_power(x[k], p.steps));
    }
  }
  fft.inverse(spectrum.data(), work.data());
  // The sum of `total` variables on indices i (t = (i - K) mesh) sits at index
  // k = sum i; the output grid t_j = (j - K) mesh + shift has j = k - (total-1) K. Each
  // variable was stored at i - centre, so the composition sits at k - centre_sum (mod m).
  const std::uint64_t offset =
      ((static_cast<std::uint64_t>(total - 1) % m) * (static_cast<std::uint64_t>(g.kk) % m) % m +
       m - centre_sum) %
      m;
  out->pmf.resize(ng);
  for (std::size_t j = 0; j < ng; ++j) out->pmf[j] = work[(j + offset) % m];
  out->t0 = g.t_min + total_shift;
}

// The refusal (accounting_error.hpp): this history is outside the range where the
// discretisation's error bracket holds, so no epsilon is reported.
[[noreturn]] void refuse(std::int64_t total, const std::string& why) {
  throw AccountingError("the PRV accountant cannot bound epsilon for " + std::to_string(total) +
                        " steps: " + why +
                        "; use the RDP accountant (accountant rdp), which answers for any history");
}

// The composed distribution is trusted only where the error analysis applies: every
// cell is a number, and the composed mean equals the sum of the per-step truncated
// means, as it does (up to rounding) for a discrete composition whose mass stayed in
// the grid. Mass that left it wraps around the FFT's period and moves the mean by
// about (period * mesh) times that mass. Past ~1e8 steps at q = 0.01, e.g., the mesh
// that the grid limit forces is wider than one step's whole loss distribution, the
// n-fold sum of the discrete steps drifts by n times their rounding, far off the
// domain, and the epsilon read from the wrapped remains was 0.
void check_composition(const ComposedPrv& c, const Grid& g, std::int64_t total) {
  double mass = 0.0;
  double mean = 0.0;
  for (std::size_t j = 0; j < c.pmf.size(); ++j) {
    mass += c.pmf[j];
    mean += c.pmf[j] * (c.t0 + static_cast<double>(j) * c.mesh);
  }
  if (!std::isfinite(mass) || !std::isfinite(mean) || !std::isfinite(c.expected_mean)) {
    refuse(total, "the composed distribution is not finite");
  }
  const double tolerance = 0.5 * c.eps_error + 1e-9 * (g.t_max - g.t_min);
  if (!(std::fabs(mean - c.expected_mean) <= tolerance)) {
    refuse(total, "the privacy loss mass left the grid (composed mean " + fmt(mean) +
                      ", expected " + fmt(c.expected_mean) + ")");
  }
}

std::shared_ptr<const ComposedPrv> compose(const std::vector<PairSpec>& pairs, double eps_error,
                                           double delta_error, std::int64_t max_grid,
                                           std::shared_ptr<const RealFft>* fft_cache) {
  auto out = std::make_shared<ComposedPrv>();
  out->eps_error = eps_error;
  out->delta_error = delta_error;
  const std::int64_t total = total_steps(pairs, out.get());
  if (total == 0) {
    out->empty = true;
    return out;
  }
  if (out->infinite) return out;
  const double big_l = domain_half_width(pairs, total, eps_error, delta_error);
  if (!std::isfinite(big_l)) {  // sigma so small that even the RDP bound overflows
    out->infinite = true;
    return out;
  }
  const Grid grid = make_grid(big_l, total, eps_error, delta_error, max_grid);
  out->eps_error = grid.eps_error;
  const auto fft = fft_of_size(next_pow2(static_cast<std::size_t>(grid.n_grid)), fft_cache);
  convolve_pairs(pairs, total, grid, *fft, out.get());
  out->mesh = grid.mesh;
  check_composition(*out, grid, total);
  return out;
}

// Epsilon at the three targets from the composed PRV.
PrvEpsilon query(const ComposedPrv& c, double delta) {
  PrvEpsilon r;
  r.eps_error = c.eps_error;
  r.delta_error = c.delta_error;
  if (c.empty) return r;
  if (c.infinite) {
    r.lower = r.estimate = r.upper = kInf;
    return r;
  }
  const std::size_t n = c.pmf.size();
  r.mesh = c.mesh;
  r.grid_points = static_cast<std::int64_t>(n);
  if (kLongDoubleEps * static_cast<double>(n) > delta - c.delta_error) {
    throw std::invalid_argument("PRV accountant: delta " + fmt(delta) + " minus delta_error " +
                                fmt(c.delta_error) +
                                " is below the floating point resolution of a grid of " +
                                std::to_string(n) + " points; increase delta or eps_error");
  }
  // Targets in increasing order: delta - delta_error (upper), delta, delta + delta_error (lower).
  const double targets[3] = {delta - c.delta_error, delta, delta + c.delta_error};
  double eps[3] = {-kInf, -kInf, -kInf};
  int next = 0;  // the next target whose crossing we look for
  // Scanning down from the top: d1 = sum_{j >= i} p_j, e = sum_{j >= i} p_j e^{t_i - t_j},
  // delta(t_i) = d1 - e. At the first cell i (from the top) with delta(t_{i-1}) > target,
  // eps solves d1_i - e^{eps - t_i} e_i = target within [t_{i-1}, t_i].
  const double decay = std::exp(-c.mesh);
  double d1 = 0.0;
  double d1_comp = 0.0;
  double e = 0.0;
  double prev_d1 = 0.0;
  double prev_e = 0.0;
  auto t_at = [&](std::size_t i) { return c.t0 + static_cast<double>(i) * c.mesh; };
  auto solve = [&](std::size_t i, double d1_i, double e_i, double target) {
    // delta(eps) = d1_i - e^{eps - t_i} e_i for eps <= t_i (down to t_{i-1}).
    const double num = d1_i - target;
    if (!(num > 0.0) || !(e_i > 0.0)) return i == 0 ? -kInf : t_at(i - 1);
    double v = t_at(i) + std::log(num / e_i);
    if (i > 0) v = std::max(v, t_at(i - 1));
    return std::min(v, t_at(i));
  };
  for (std::size_t step = 0; step < n && next < 3; ++step) {
    const std::size_t i = n - 1 - step;
    const double p = c.pmf[i];
    const double t = d1 + p;
    d1_comp += std::fabs(d1) >= std::fabs(p) ? (d1 - t) + p : (p - t) + d1;
    d1 = t;
    e = p + decay * e;
    const double cur_d1 = d1 + d1_comp;
    const double delta_i = cur_d1 - e;
    while (next < 3 && delta_i > targets[next]) {
      // Cell i + 1 is the first (from the top) whose delta is <= the target.
      eps[next] = solve(i + 1, prev_d1, prev_e, targets[next]);
      ++next;
    }
    prev_d1 = cur_d1;
    prev_e = e;
  }
  while (next < 3) {  // delta(t_0) <= target: eps lies below the grid
    // Impossible for a true PRV: E[e^{-Y}] <= 1 gives delta(t) >= 1 - e^t for t < 0,
    // and t_0 <= -2. Reaching it means the composition lost its mass.
    if (targets[next] < -std::expm1(c.t0)) {
      throw AccountingError("the PRV accountant cannot bound epsilon: delta(" + fmt(c.t0) +
                            ") at the bottom of its grid is below " + fmt(targets[next]) +
                            ", which no privacy loss distribution allows; use the RDP "
                            "accountant (accountant rdp)");
    }
    eps[next] = solve(0, prev_d1, prev_e, targets[next]);
    ++next;
  }
  for (const double e : eps) {
    if (std::isnan(e)) throw AccountingError("the PRV accountant's epsilon is not a number");
  }
  r.upper = std::max(0.0, eps[0] + c.eps_error);
  r.estimate = std::max(0.0, eps[1]);
  r.lower = std::max(0.0, eps[2] - c.eps_error);
  return r;
}

std::vector<PairSpec> pair_specs_from_segments(const std::vector<MechanismSegment>& segments,
                                               std::vector<std::vector<double>>* curves) {
  // Group identical (sigma, q) pairs: composition is commutative.
  std::map<std::pair<double, double>, std::size_t> index;
  std::vector<PairSpec> pairs;
  for (const MechanismSegment& s : segments) {
    validate_segment(s.noise_multiplier, s.sample_rate, s.steps, "prv_epsilon");
    if (s.steps == 0) continue;
    const auto key = std::make_pair(s.noise_multiplier, s.sample_rate);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, pairs.size()).first;
      pairs.push_back({s.noise_multiplier, s.sample_rate, 0, nullptr});
    }
    if (pairs[it->second].steps > std::numeric_limits<std::int64_t>::max() - s.steps) {
      throw std::overflow_error("prv_epsilon: step count overflows int64");
    }
    pairs[it->second].steps += s.steps;
  }
  const std::vector<double> orders = default_rdp_orders();
  curves->clear();
  curves->reserve(pairs.size());
  for (PairSpec& p : pairs) {
    curves->push_back(p.sigma > 0.0 ? compute_rdp_curve(p.q, p.sigma, orders)
                                    : std::vector<double>(orders.size(), kInf));
  }
  for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i].rdp_curve = &(*curves)[i];
  return pairs;
}

}  // namespace

// ---- public functions ------------------------------------------------------------------

double prv_cdf(double q, double sigma, double t) {
  validate_segment(sigma, q, 0, "prv_cdf");
  if (sigma == 0.0) fail("prv_cdf", "sigma must be > 0");
  double f, s;
  SubsampledGaussianPrv(q, sigma).cdf_sf(t, f, s);
  return f;
}

double prv_sf(double q, double sigma, double t) {
  validate_segment(sigma, q, 0, "prv_sf");
  if (sigma == 0.0) fail("prv_sf", "sigma must be > 0");
  double f, s;
  SubsampledGaussianPrv(q, sigma).cdf_sf(t, f, s);
  return s;
}

PrvEpsilon prv_epsilon(const std::vector<MechanismSegment>& segments, double delta,
                       double eps_error, double delta_error, std::int64_t max_grid_points) {
  validate_query(delta, eps_error, delta_error, "prv_epsilon");
  validate_grid_limit(max_grid_points, "prv_epsilon");
  std::vector<std::vector<double>> curves;
  const std::vector<PairSpec> pairs = pair_specs_from_segments(segments, &curves);
  std::shared_ptr<const RealFft> fft;
  const auto composed = compose(pairs, eps_error, delta_error, max_grid_points, &fft);
  return query(*composed, delta);
}

// ---- PrvAccountant ---------------------------------------------------------------------

PrvAccountant::PrvAccountant() : PrvAccountant(PrvOptions{}) {}

PrvAccountant::PrvAccountant(PrvOptions options)
    : options_(options), cache_(std::make_shared<Cache>()) {
  if (!(options_.eps_error > 0.0) || std::isinf(options_.eps_error)) {
    fail("PrvAccountant", "eps_error must be finite and > 0, got " + fmt(options_.eps_error));
  }
  if (!(options_.delta_error_ratio > 0.0 && options_.delta_error_ratio < 1.0)) {
    fail("PrvAccountant",
         "delta_error_ratio must be in (0, 1), got " + fmt(options_.delta_error_ratio));
  }
  validate_grid_limit(options_.max_grid_points, "PrvAccountant");
}

void PrvAccountant::step(double sigma, double q, std::int64_t steps) {
  validate_segment(sigma, q, steps, "PrvAccountant::step");
  if (steps == 0) return;
  const std::pair<double, double> key{sigma, q};
  auto it = use_index_.find(key);
  if (it == use_index_.end()) {
    PairUse use;
    use.sigma = sigma;
    use.q = q;
    use.rdp_curve = sigma > 0.0 ? compute_rdp_curve(q, sigma, default_rdp_orders())
                                : std::vector<double>(default_rdp_orders().size(), kInf);
    uses_.push_back(std::move(use));
    it = use_index_.emplace(key, uses_.size() - 1).first;
  }
  PairUse& use = uses_[it->second];
  if (use.steps > std::numeric_limits<std::int64_t>::max() - steps) {
    throw std::overflow_error("PrvAccountant::step: step count overflows int64");
  }
  use.steps += steps;
  if (!history_.empty() && history_.back().noise_multiplier == sigma &&
      history_.back().sample_rate == q) {
    history_.back().steps += steps;
  } else {
    history_.push_back(MechanismSegment{sigma, q, steps});
  }
}

PrvEpsilon PrvAccountant::epsilon_bounds(double delta, double eps_error, double delta_error) const {
  validate_query(delta, eps_error, delta_error, "PrvAccountant::epsilon");
  std::vector<std::tuple<double, double, std::int64_t>> key;
  std::vector<PairSpec> pairs;
  for (const PairUse& u : uses_) {
    key.emplace_back(u.sigma, u.q, u.steps);
    pairs.push_back({u.sigma, u.q, u.steps, &u.rdp_curve});
  }
  std::shared_ptr<const ComposedPrv> composed;
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    if (cache_->composed && cache_->key_pairs == key && cache_->key_eps_error == eps_error &&
        cache_->key_delta_error == delta_error &&
        cache_->key_max_grid == options_.max_grid_points) {
      composed = cache_->composed;
    } else {
      composed = compose(pairs, eps_error, delta_error, options_.max_grid_points, &cache_->fft);
      cache_->composed = composed;
      cache_->key_pairs = std::move(key);
      cache_->key_eps_error = eps_error;
      cache_->key_delta_error = delta_error;
      cache_->key_max_grid = options_.max_grid_points;
    }
  }
  return query(*composed, delta);
}

EpsilonReport PrvAccountant::epsilon(double delta) const {
  if (!(delta > 0.0 && delta < 1.0)) {
    fail("PrvAccountant::epsilon", "delta must be in (0, 1), got " + fmt(delta));
  }
  const PrvEpsilon e =
      epsilon_bounds(delta, options_.eps_error, options_.delta_error_ratio * delta);
  EpsilonReport report;
  report.delta = delta;
  report.epsilon = e.estimate;
  report.epsilon_lower = e.lower;
  report.epsilon_upper = e.upper;
  report.has_bounds = true;
  return report;
}

}  // namespace dpsgd::accounting
