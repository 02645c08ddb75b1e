#pragma once
// The 2-D scattering transform with Morlet wavelets up to order 2 (Mallat 2012; Bruna &
// Mallat 2013; Oyallon & Mallat 2015), computed as kymatio 0.3.0's Scattering2D computes it:
// reflect padding by 2^J on each side, convolutions as products in Fourier, subsampling by
// periodisation in Fourier, complex modulus, and a final crop of one pixel per side. The
// output channels follow kymatio's order: the order-0 coefficient, then order 1 for (j1, theta1)
// j1-major, then order 2 for (j1, theta1, j2, theta2) lexicographically with j2 > j1.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/features/scatternet/morlet_filter_bank.hpp"

namespace dpsgd::features::scatternet {

class Scattering2d {
 public:
  /// J >= 1 scales, L >= 1 angles, for inputs of height x width (both multiples of 2^J).
  /// Throws std::invalid_argument otherwise.
  Scattering2d(int J, int L, std::int64_t height, std::int64_t width);

  /// x: N x C x height x width (any floating dtype, any device). Returns N x (C*K) x
  /// height/2^J x width/2^J float32 on x's device, channel c*K + k being kymatio's
  /// coefficient k of input channel c. Throws std::invalid_argument for a wrong shape.
  torch::Tensor transform(const torch::Tensor& x) const;

  /// K = 1 + J*L + L*L*J*(J-1)/2 output channels per input channel (81 for J=2, L=8).
  [[nodiscard]] std::int64_t channels_per_input() const;
  [[nodiscard]] std::int64_t output_height() const { return height_ >> J_; }
  [[nodiscard]] std::int64_t output_width() const { return width_ >> J_; }
  [[nodiscard]] int J() const { return J_; }
  [[nodiscard]] int L() const { return L_; }
  [[nodiscard]] std::int64_t height() const { return height_; }
  [[nodiscard]] std::int64_t width() const { return width_; }

 private:
  // The filters as the transform uses them, float32, on one device: each scale's wavelets
  // stacked over theta, so one broadcast product filters a batch by all L angles.
  struct Filters {
    std::vector<torch::Tensor> phi;                  // phi[res]: (M/2^res) x (N/2^res)
    std::vector<torch::Tensor> psi_full;             // psi_full[j]: L x M x N
    std::vector<std::vector<torch::Tensor>> psi_at;  // psi_at[j1][j2]: L x M/2^j1 x N/2^j1
    torch::Tensor pad_rows;                          // reflect-padding row indices, int64
    torch::Tensor pad_cols;
  };

  const Filters& filters_on(const torch::Device& device) const;
  [[nodiscard]] torch::Tensor lowpass(const torch::Tensor& u_hat, int res, int log2_factor,
                                      const Filters& f) const;
  [[nodiscard]] std::vector<torch::Tensor> order1_and_2(const torch::Tensor& u0_hat,
                                                        const Filters& f) const;

  int J_;
  int L_;
  std::int64_t height_;
  std::int64_t width_;
  Filters cpu_filters_;
  mutable std::mutex mutex_;                               // guards device_filters_
  mutable std::map<std::string, Filters> device_filters_;  // copies for non-CPU devices
};

}  // namespace dpsgd::features::scatternet
