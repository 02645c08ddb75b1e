#include "dpsgd/models/zoo/filter_bank.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <c10/core/impl/LocalDispatchKeySet.h>

namespace dpsgd::models {
namespace {

// Normalised 1-D Gaussian of standard deviation s, truncated at 3 s.
torch::Tensor gaussian_kernel(double s, const torch::TensorOptions& options) {
  const auto radius = static_cast<std::int64_t>(std::ceil(3.0 * s));
  auto t = torch::arange(-radius, radius + 1, options);
  auto k = torch::exp(-0.5 * (t / s) * (t / s));
  return k / k.sum();
}

// Separable convolution of every channel with the 1-D kernels along rows (ky)
// and columns (kx), replicate padding, same size out.
torch::Tensor separable(const torch::Tensor& x, const torch::Tensor& ky, const torch::Tensor& kx) {
  const std::vector<std::int64_t> kOne{1};
  const std::vector<std::int64_t> kZero{0};
  const auto c = x.size(1);
  const auto ry = (ky.size(0) - 1) / 2;
  const auto rx = (kx.size(0) - 1) / 2;
  auto wy = ky.view({1, 1, -1, 1}).expand({c, 1, ky.size(0), 1});
  auto wx = kx.view({1, 1, 1, -1}).expand({c, 1, 1, kx.size(0)});
  auto y = torch::replication_pad2d(x, {0, 0, ry, ry});
  y = torch::conv2d(y, wy, torch::Tensor(), kOne, kZero, kOne, c);
  y = torch::replication_pad2d(y, {rx, rx, 0, 0});
  return torch::conv2d(y, wx, torch::Tensor(), kOne, kZero, kOne, c);
}

torch::Tensor standardise(const torch::Tensor& f) {
  const auto mean = f.mean({2, 3}, /*keepdim=*/true);
  const auto std = f.std({2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  return (f - mean) / (std + 1e-6);
}

}  // namespace

std::int64_t filter_bank_channels(std::int64_t in_channels, std::size_t scales) {
  return in_channels * (1 + 4 * static_cast<std::int64_t>(scales)) + 1;
}

torch::Tensor filter_bank_features(const torch::Tensor& images, const std::vector<double>& scales) {
  torch::NoGradGuard no_grad;
  // Never under autocast (train.precision: bf16): a derivative is a difference of
  // neighbouring smoothed values, below bfloat16's resolution at large scales.
  const c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
  const auto opts = images.options();
  const auto delta = torch::ones({1}, opts);
  // Central difference; conv2d correlates, so this gives -d/dy (-d/dx): the sign
  // is immaterial to a head that is linear in each channel.
  const auto diff = torch::tensor({0.5, 0.0, -0.5}, opts);
  const auto second = torch::tensor({1.0, -2.0, 1.0}, opts);  // second difference
  std::vector<torch::Tensor> parts{standardise(images)};
  for (const double s : scales) {
    if (!(s > 0.0)) {
      throw std::invalid_argument("filter bank: scale " + std::to_string(s) + " must be > 0");
    }
    const auto g = gaussian_kernel(s, opts);
    const auto smooth = separable(images, g, g);
    parts.push_back(standardise(smooth));
    parts.push_back(standardise(s * separable(smooth, diff, delta)));
    parts.push_back(standardise(s * separable(smooth, delta, diff)));
    // s^2 d2/dy2: a ridge (band) detector across the horizontal retinal layers.
    parts.push_back(standardise(s * s * separable(smooth, second, delta)));
  }
  // The row coordinate in [-1, 1]: retinal layers lie in horizontal bands.
  const auto h = images.size(2);
  auto rows = torch::linspace(-1.0, 1.0, h, opts).view({1, 1, h, 1});
  parts.push_back(rows.expand({images.size(0), 1, h, images.size(3)}));
  return torch::cat(parts, 1);
}

}  // namespace dpsgd::models
