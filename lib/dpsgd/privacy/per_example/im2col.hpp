#pragma once
// im2col for 2-D (transposed) convolution rules: the patches of a batch of
// feature maps that a convolution kernel sees, as one strided view of the padded
// input and a single copy. LibTorch's CPU unfold (im2col) measured 30-100x slower
// than this on the CI machine; the layout, (channel, kh, kw) x (oh, ow), is the
// same, so results are bit-identical.
#include <array>

#include <torch/torch.h>

namespace dpsgd::privacy {

/// Geometry of a 2-D convolution kernel sliding over a feature map.
struct PatchGeometry {
  std::array<std::int64_t, 2> kernel{1, 1};
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};
  std::array<std::int64_t, 2> dilation{1, 1};
};

/// Number of kernel positions (oh, ow) on an (h, w) map: the convolution's output size.
std::array<std::int64_t, 2> patch_grid_size(const PatchGeometry& geometry, std::int64_t height,
                                            std::int64_t width);

/// (B, G, C/G * kh * kw, oh * ow): the patches of x (B, C, H, W), split into G
/// channel groups. `grid` is the number of positions (oh, ow) to take; it must not
/// exceed patch_grid_size (a transposed convolution with output_padding >= stride
/// needs fewer than fit).
torch::Tensor unfold_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                              std::int64_t groups, const std::array<std::int64_t, 2>& grid);

/// As above with every position that fits.
torch::Tensor unfold_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                              std::int64_t groups);

/// (B, G, oh * ow, kh * kw * C/G): the same patches, one row per position, each
/// patch ordered (kh, kw, channel) instead of the weight's (channel, kh, kw). For
/// Gram forms (patch dot products), where the order inside a patch does not
/// matter: copied from a channels-last view, each patch is kh runs of kw * C/G
/// contiguous values, which measured 2x faster than the strided gather above
/// (TF-CNN conv2 at batch 1024, 2 CPU threads, conversion included).
torch::Tensor unfold_positions_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                                        std::int64_t groups,
                                        const std::array<std::int64_t, 2>& grid);

/// As above with every position that fits.
torch::Tensor unfold_positions_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                                        std::int64_t groups);

}  // namespace dpsgd::privacy
