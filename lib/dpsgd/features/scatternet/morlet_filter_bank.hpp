#pragma once
// The Morlet filter bank of the 2-D scattering transform (Mallat 2012; Bruna & Mallat 2013;
// Oyallon & Mallat 2015), defined as kymatio 0.3.0 defines it (scattering2d/filter_bank.py),
// so that our coefficients match kymatio's, which Tramer & Boneh (ICLR 2021) used. Filters
// are built in space on the padded grid, periodised over 5 x 5 copies of it, and taken to
// Fourier, where they are real (the spatial filters are Hermitian-symmetric up to rounding).
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::features::scatternet {

/// A band-pass Morlet wavelet psi_{j,theta} in Fourier, at the resolutions the transform needs.
struct MorletWavelet {
  int j = 0;      ///< scale: sigma = 0.8 * 2^j, central frequency xi = (3 pi / 4) / 2^j
  int theta = 0;  ///< angle index in [0, L)
  /// levels[res]: the filter periodised to (M / 2^res) x (N / 2^res), float64, res = 0..j.
  std::vector<torch::Tensor> levels;
};

struct MorletFilterBank {
  /// J * L wavelets, j-major then theta (kymatio's order, which fixes the channel order).
  std::vector<MorletWavelet> psi;
  /// phi[res]: the Gaussian low-pass (sigma = 0.8 * 2^(J-1)) periodised to M/2^res x N/2^res,
  /// res = 0..J-1, float64.
  std::vector<torch::Tensor> phi;
};

/// The filters for a padded grid of `padded_height` x `padded_width` (both multiples of 2^J).
MorletFilterBank morlet_filter_bank(std::int64_t padded_height, std::int64_t padded_width, int J,
                                    int L);

/// A Gabor filter in space, g_sigma(u) e^{i xi . u} with an elliptic Gaussian envelope of
/// angle `theta` and aspect `slant`, summed over the 5 x 5 periodic copies of the grid;
/// complex128, M x N.
torch::Tensor gabor_2d(std::int64_t M, std::int64_t N, double sigma, double theta, double xi,
                       double slant);

/// A Morlet filter in space: the Gabor filter minus beta times its envelope, beta chosen so
/// that the sum (the DC component) is zero; complex128, M x N.
torch::Tensor morlet_2d(std::int64_t M, std::int64_t N, double sigma, double theta, double xi,
                        double slant);

/// A real Fourier-domain filter (M x N) cropped to the frequencies that survive subsampling
/// by 2^res and folded onto an (M / 2^res) x (N / 2^res) grid, as kymatio's
/// periodize_filter_fft does.
torch::Tensor periodize_filter_fft(const torch::Tensor& filter, int res);

}  // namespace dpsgd::features::scatternet
