#pragma once
// A fixed, data-independent multi-scale filter bank for per-pixel features: at
// each Gaussian scale s the smoothed image G_s * x, its first derivatives along
// rows and columns and its second derivative across the layers d2/dy2 (G_s * x),
// a band detector for the horizontal retinal layers (Gaussian-derivative
// features: Lindeberg 1998, "Feature detection with automatic scale selection";
// Lindeberg's s and s^2 normalisation factors are applied but cancel in the
// per-image standardisation below), plus the raw image and the row coordinate.
// A scattering transform's first layer (Mallat 2012) takes moduli of Morlet
// wavelets instead; the idea is the same: nothing here is learned or looks at
// data other than the image itself, so the features cost no privacy (Tramer &
// Boneh 2021 train private heads on such fixed features).
//
// Each filtered channel (not the row coordinate) is then standardised per image
// (zero mean, unit variance over its pixels): a per-example operation, so
// per-example gradients and the DP sensitivity bound are unaffected. Computed in
// the input's dtype, never under autocast.
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
