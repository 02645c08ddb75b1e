#include "dpsgd/features/scatternet/scattering2d.hpp"

#include <sstream>
#include <stdexcept>
#include <utility>

namespace dpsgd::features::scatternet {

namespace {

void check_settings(int J, int L, std::int64_t height, std::int64_t width) {
  if (J < 1 || J > 16 || L < 1) {
    throw std::invalid_argument("Scattering2d: need 1 <= J <= 16 and L >= 1, got J=" +
                                std::to_string(J) + ", L=" + std::to_string(L));
  }
  const std::int64_t scale = std::int64_t{1} << J;
  if (height <= 0 || width <= 0 || height % scale != 0 || width % scale != 0) {
    throw std::invalid_argument(
        "Scattering2d: height and width must be positive multiples of 2^J = " +
        std::to_string(scale) + ", got " + std::to_string(height) + " x " + std::to_string(width));
  }
}

// Indices of the reflect-padded signal (kymatio pads (P - n) / 2 on each side, P = n + 2^(J+1)):
// reflection without repeating the edge, continued periodically with period 2(n - 1), which is
// also what kymatio's special case produces when the padding equals the size.
torch::Tensor reflect_indices(std::int64_t n, std::int64_t pad) {
  const std::int64_t period = 2 * (n - 1);
  std::vector<std::int64_t> idx;
  for (std::int64_t p = -pad; p < n + pad; ++p) {
    std::int64_t i = ((p % period) + period) % period;
    idx.push_back(i < n ? i : period - i);
  }
  return torch::tensor(idx, torch::kInt64);
}

// Subsampling by 2^log2_factor in space is periodisation in Fourier: the mean of the
// 2^log2_factor x 2^log2_factor blocks of the spectrum (kymatio's subsample_fourier).
torch::Tensor subsample_fourier(const torch::Tensor& x_hat, int log2_factor) {
  if (log2_factor == 0) return x_hat;
  const std::int64_t k = std::int64_t{1} << log2_factor;
  auto sizes = x_hat.sizes().vec();
  const std::int64_t m = sizes[sizes.size() - 2];
  const std::int64_t n = sizes[sizes.size() - 1];
  sizes.pop_back();
  sizes.pop_back();
  sizes.insert(sizes.end(), {k, m / k, k, n / k});
  return x_hat.reshape(sizes).mean(torch::IntArrayRef{-4, -2});
}

// |ifft(x_hat)| taken back to Fourier: the modulus nonlinearity between two wavelet layers.
torch::Tensor modulus_in_fourier(const torch::Tensor& x_hat) {
  return torch::fft::fft2(torch::abs(torch::fft::ifft2(x_hat)));
}

}  // namespace

Scattering2d::Scattering2d(int J, int L, std::int64_t height, std::int64_t width)
    : J_(J), L_(L), height_(height), width_(width) {
  check_settings(J, L, height, width);
  const std::int64_t pad = std::int64_t{1} << J;
  const auto bank = morlet_filter_bank(height + 2 * pad, width + 2 * pad, J, L);
  for (const auto& phi : bank.phi) cpu_filters_.phi.push_back(phi.to(torch::kFloat32));
  cpu_filters_.psi_at.resize(static_cast<std::size_t>(J));
  for (int j = 0; j < J; ++j) {
    std::vector<torch::Tensor> full;
    std::vector<std::vector<torch::Tensor>> at(static_cast<std::size_t>(j));
    for (int t = 0; t < L; ++t) {
      const auto& psi = bank.psi[static_cast<std::size_t>(j * L + t)];
      full.push_back(psi.levels[0]);
      for (int j1 = 0; j1 < j; ++j1) at[j1].push_back(psi.levels[j1]);
    }
    cpu_filters_.psi_full.push_back(torch::stack(full).to(torch::kFloat32));
    for (int j1 = 0; j1 < j; ++j1) {
      auto& row = cpu_filters_.psi_at[j1];
      row.resize(static_cast<std::size_t>(J));
      row[j] = torch::stack(at[j1]).to(torch::kFloat32);
    }
  }
  cpu_filters_.pad_rows = reflect_indices(height, pad);
  cpu_filters_.pad_cols = reflect_indices(width, pad);
}

std::int64_t Scattering2d::channels_per_input() const {
  return 1 + std::int64_t{J_} * L_ + std::int64_t{L_} * L_ * J_ * (J_ - 1) / 2;
}

const Scattering2d::Filters& Scattering2d::filters_on(const torch::Device& device) const {
  if (device.is_cpu()) return cpu_filters_;
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto key = device.str();
  auto it = device_filters_.find(key);
  if (it != device_filters_.end()) return it->second;
  // First use on this device: copy the (small) filters once and keep them there.
  Filters f;
  for (const auto& t : cpu_filters_.phi) f.phi.push_back(t.to(device));
  for (const auto& t : cpu_filters_.psi_full) f.psi_full.push_back(t.to(device));
  for (const auto& row : cpu_filters_.psi_at) {
    std::vector<torch::Tensor> moved;
    for (const auto& t : row) moved.push_back(t.defined() ? t.to(device) : t);
    f.psi_at.push_back(std::move(moved));
  }
  f.pad_rows = cpu_filters_.pad_rows.to(device);
  f.pad_cols = cpu_filters_.pad_cols.to(device);
  return device_filters_.emplace(key, std::move(f)).first->second;
}

// Low-pass by phi_J, subsampled to the output grid, and the one-pixel crop that removes the
// padding (after subsampling by 2^J the 2^J-pixel padding is one pixel per side).
torch::Tensor Scattering2d::lowpass(const torch::Tensor& u_hat, int res, int log2_factor,
                                    const Filters& f) const {
  const auto s_hat = subsample_fourier(u_hat * f.phi[static_cast<std::size_t>(res)], log2_factor);
  const auto s = torch::real(torch::fft::ifft2(s_hat));
  const std::int64_t h = s.size(-2);
  const std::int64_t w = s.size(-1);
  return s.narrow(-2, 1, h - 2).narrow(-1, 1, w - 2);
}

// Orders 1 and 2 (Oyallon & Mallat 2015, eq. 2-3): S1 = |x * psi_{j1,t1}| * phi_J and
// S2 = ||x * psi_{j1,t1}| * psi_{j2,t2}| * phi_J for j2 > j1, each grouped per j1 as
// B x channels x h x w in kymatio's order.
std::vector<torch::Tensor> Scattering2d::order1_and_2(const torch::Tensor& u0_hat,
                                                      const Filters& f) const {
  const std::int64_t batch = u0_hat.size(0);
  std::vector<torch::Tensor> order1;
  std::vector<torch::Tensor> order2;
  for (int j1 = 0; j1 < J_; ++j1) {
    // B x L x M/2^j1 x N/2^j1: |x * psi_{j1, theta}| in Fourier, at resolution 2^j1.
    const auto u1_hat = modulus_in_fourier(
        subsample_fourier(u0_hat.unsqueeze(1) * f.psi_full[static_cast<std::size_t>(j1)], j1));
    order1.push_back(lowpass(u1_hat, j1, J_ - j1, f));
    std::vector<torch::Tensor> per_j2;
    for (int j2 = j1 + 1; j2 < J_; ++j2) {
      const auto& psi = f.psi_at[static_cast<std::size_t>(j1)][static_cast<std::size_t>(j2)];
      const auto u2_hat = modulus_in_fourier(subsample_fourier(u1_hat.unsqueeze(2) * psi, j2 - j1));
      per_j2.push_back(lowpass(u2_hat, j2, J_ - j2, f));  // B x L x L x h x w
    }
    // Concatenating over j2 along theta2's axis orders the channels (theta1, j2, theta2).
    if (!per_j2.empty())
      order2.push_back(torch::cat(per_j2, 2).reshape({batch, -1, output_height(), output_width()}));
  }
  order1.insert(order1.end(), order2.begin(), order2.end());
  return order1;
}

torch::Tensor Scattering2d::transform(const torch::Tensor& x) const {
  if (x.dim() != 4 || x.size(2) != height_ || x.size(3) != width_) {
    std::ostringstream msg;
    msg << "Scattering2d::transform: expected N x C x " << height_ << " x " << width_ << ", got "
        << x.sizes();
    throw std::invalid_argument(msg.str());
  }
  if (!x.is_floating_point()) {
    throw std::invalid_argument("Scattering2d::transform: expected a floating-point input");
  }
  const torch::NoGradGuard no_grad;
  const std::int64_t n = x.size(0);
  const std::int64_t c = x.size(1);
  if (n == 0 || c == 0) {
    return torch::empty({n, c * channels_per_input(), output_height(), output_width()},
                        x.options().dtype(torch::kFloat32));
  }
  const auto& f = filters_on(x.device());
  const auto images = x.to(torch::kFloat32).reshape({n * c, height_, width_});
  const auto padded = images.index_select(1, f.pad_rows).index_select(2, f.pad_cols);
  const auto u0_hat = torch::fft::fft2(padded);
  std::vector<torch::Tensor> parts{lowpass(u0_hat, 0, J_, f).unsqueeze(1)};
  auto higher = order1_and_2(u0_hat, f);
  parts.insert(parts.end(), higher.begin(), higher.end());
  // (N*C) x K x h x w, then kymatio's N x C x K x h x w flattened to N x (C*K) x h x w.
  return torch::cat(parts, 1).reshape(
      {n, c * channels_per_input(), output_height(), output_width()});
}

}  // namespace dpsgd::features::scatternet
