#pragma once
// Augmented views of training examples: random crops of the reflection-padded
// image (at the original size) and left-right flips, drawn independently per
// view. With augmentation multiplicity K (De et al. 2022, "Unlocking
// high-accuracy differentially private image classification through scale",
// section 3.2) every drawn example becomes K views whose mean gradient is the
// example's gradient: it is clipped once, so one example still moves the
// clipped sum by at most the clipping bound and the sensitivity is unchanged.
// Each view is a function of its example and of randomness drawn independently
// of the data, so augmentation costs no privacy.
#include <cstdint>
#include <utility>

#include <ATen/core/Generator.h>
#include <torch/torch.h>

namespace dpsgd::data {

struct ViewOptions {
  std::int64_t views = 1;         ///< K, views per example
  std::int64_t crop_padding = 0;  ///< p: crop offsets uniform in [0, 2p] per axis; 0: no crop
  bool hflip = false;             ///< each view flipped left-right with probability 1/2
};

/// x (B, C, H, W) and y (B) class labels or (B, H, W) per-pixel labels in;
/// (B K)-row views out, example i's in rows i K .. i K + K - 1 (labels
/// repeated, masks cropped and flipped with their image). The offsets and coins
/// come from `rng` (a CPU generator), drawn for all views at once. Throws
/// std::invalid_argument when p >= H or p >= W (reflection needs p < size).
std::pair<torch::Tensor, torch::Tensor> make_views(const torch::Tensor& x, const torch::Tensor& y,
                                                   const ViewOptions& options, at::Generator& rng);

}  // namespace dpsgd::data
