#include "dpsgd/features/scatternet/morlet_filter_bank.hpp"

#include <cmath>

namespace dpsgd::features::scatternet {

namespace {

constexpr double kPi = 3.14159265358979323846;
// kymatio normalises the Gaussian envelope by 2 * 3.1415 * sigma^2 / slant, with pi truncated
// to 3.1415; we keep that constant, or every coefficient would differ by ~3e-5 relative.
constexpr double kKymatioPi = 3.1415;

torch::Tensor real_fft2(const torch::Tensor& spatial) {
  // The spatial filters are Hermitian-symmetric, so their transform is real up to rounding.
  return torch::real(torch::fft::fft2(spatial)).contiguous();
}

}  // namespace

torch::Tensor gabor_2d(std::int64_t M, std::int64_t N, double sigma, double theta, double xi,
                       double slant) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  // curv = R diag(1, slant^2) R^T / (2 sigma^2): the envelope's inverse covariance.
  const double c = std::cos(theta);
  const double s = std::sin(theta);
  const double s2 = slant * slant;
  const double denom = 2.0 * sigma * sigma;
  const double c00 = (c * c + s2 * s * s) / denom;
  const double c01 = (c * s - s2 * s * c) / denom;  // = c10
  const double c11 = (s * s + s2 * c * c) / denom;
  auto gab = torch::zeros({M, N}, f64.dtype(torch::kComplexDouble));
  // Summing the copies shifted by -2..2 periods makes the filter periodic on the grid, so
  // circular convolution by FFT acts like convolution by the unbounded filter.
  for (int ex = -2; ex <= 2; ++ex) {
    for (int ey = -2; ey <= 2; ++ey) {
      const auto xx = (torch::arange(M, f64) + static_cast<double>(ex * M)).unsqueeze(1);
      const auto yy = (torch::arange(N, f64) + static_cast<double>(ey * N)).unsqueeze(0);
      const auto envelope = -(c00 * xx * xx + 2.0 * c01 * xx * yy + c11 * yy * yy);
      const auto phase = xx * (xi * c) + yy * (xi * s);
      gab += torch::polar(torch::exp(envelope), phase);
    }
  }
  return gab / (2.0 * kKymatioPi * sigma * sigma / slant);
}

torch::Tensor morlet_2d(std::int64_t M, std::int64_t N, double sigma, double theta, double xi,
                        double slant) {
  const auto wave = gabor_2d(M, N, sigma, theta, xi, slant);
  const auto envelope = gabor_2d(M, N, sigma, theta, 0.0, slant);
  const auto beta = wave.sum() / envelope.sum();
  return wave - beta * envelope;
}

torch::Tensor periodize_filter_fft(const torch::Tensor& filter, int res) {
  const std::int64_t M = filter.size(0);
  const std::int64_t N = filter.size(1);
  const std::int64_t k = std::int64_t{1} << res;
  // Zero the band of frequencies that aliases after subsampling by 2^res (kymatio's mask,
  // with its float-then-truncate arithmetic), then fold the remaining ones onto the small grid.
  const auto start_x =
      static_cast<std::int64_t>(static_cast<double>(M) * std::ldexp(1.0, -res - 1));
  const auto len_x =
      static_cast<std::int64_t>(static_cast<double>(M) * (1.0 - std::ldexp(1.0, -res)));
  const auto start_y =
      static_cast<std::int64_t>(static_cast<double>(N) * std::ldexp(1.0, -res - 1));
  const auto len_y =
      static_cast<std::int64_t>(static_cast<double>(N) * (1.0 - std::ldexp(1.0, -res)));
  auto masked = filter.clone();
  masked.narrow(0, start_x, len_x).zero_();
  masked.narrow(1, start_y, len_y).zero_();
  return masked.reshape({k, M / k, k, N / k}).sum(torch::IntArrayRef{0, 2}).contiguous();
}

MorletFilterBank morlet_filter_bank(std::int64_t padded_height, std::int64_t padded_width, int J,
                                    int L) {
  MorletFilterBank bank;
  // kymatio's angle: (int(L - L/2 - 1) - theta) * pi / L, with Python's truncating int().
  const int angle_origin = static_cast<int>(static_cast<double>(L) - L / 2.0 - 1.0);
  for (int j = 0; j < J; ++j) {
    for (int theta = 0; theta < L; ++theta) {
      const double angle = (angle_origin - theta) * kPi / L;
      const auto spatial = morlet_2d(padded_height, padded_width, 0.8 * std::ldexp(1.0, j), angle,
                                     0.75 * kPi / std::ldexp(1.0, j), 4.0 / L);
      const auto fourier = real_fft2(spatial);
      MorletWavelet psi{j, theta, {}};
      for (int res = 0; res <= j; ++res) psi.levels.push_back(periodize_filter_fft(fourier, res));
      bank.psi.push_back(std::move(psi));
    }
  }
  // The low-pass is a Gaussian (a Gabor of zero frequency) of width 0.8 * 2^(J-1), as in kymatio.
  const auto phi =
      real_fft2(gabor_2d(padded_height, padded_width, 0.8 * std::ldexp(1.0, J - 1), 0.0, 0.0, 1.0));
  for (int res = 0; res < J; ++res) bank.phi.push_back(periodize_filter_fft(phi, res));
  return bank;
}

}  // namespace dpsgd::features::scatternet
