#pragma once
// A fixed, data-independent multi-scale filter bank for per-pixel features: at
// each Gaussian scale s the smoothed image G_s * x and its scale-normalised
// first derivatives s * d/dy (G_s * x) and s * d/dx (G_s * x), and the
// second derivative across the layers s^2 * d2/dy2 (G_s * x), a band detector
// (Lindeberg 1998, "Feature detection with automatic scale selection"), plus the raw image and
// the normalised row coordinate. These are the first-order Gaussian-derivative
// responses that a scattering transform's first layer approximates (Mallat
// 2012); nothing here is learned or looks at data other than the image itself,
// so the features cost no privacy (Tramer & Boneh 2021 train private heads on
// such fixed features).
//
// Each channel is then standardised per image (zero mean, unit variance over
// its pixels): a per-example operation, so per-example gradients and the DP
// sensitivity bound are unaffected.
#include <vector>

#include <torch/torch.h>

namespace dpsgd::models {

/// The number of channels filter_bank_features returns for `scales` on
/// `in_channels` input channels: in * (1 + 4 * scales) + 1.
std::int64_t filter_bank_channels(std::int64_t in_channels, std::size_t scales);

/// B x C x H x W -> B x filter_bank_channels(C, scales.size()) x H x W. Scales
/// are Gaussian standard deviations in pixels (each > 0); borders are
/// replicate-padded. No autograd graph is built: the bank has no parameters.
torch::Tensor filter_bank_features(const torch::Tensor& images, const std::vector<double>& scales);

}  // namespace dpsgd::models
