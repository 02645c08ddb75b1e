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

/// The random part of n views: each view's crop offsets (dy, dx in [0, 2p]) and
/// flip, on the CPU. Drawn for a whole batch at once, so a view's transformation
/// depends on its place in the batch only, not on how the batch is split into
/// chunks or across processes.
struct ViewTransforms {
  torch::Tensor dy;    ///< int64 (n)
  torch::Tensor dx;    ///< int64 (n)
  torch::Tensor flip;  ///< bool (n); all false without hflip

  [[nodiscard]] std::int64_t size() const { return dy.defined() ? dy.size(0) : 0; }
  /// Views [first, first + count).
  [[nodiscard]] ViewTransforms slice(std::int64_t first, std::int64_t count) const;
};

/// n views' transformations from `rng` (a CPU generator): offsets, then coins.
ViewTransforms draw_view_transforms(std::int64_t n, const ViewOptions& options, at::Generator& rng);

/// x (B, C, H, W) and y (B) class labels or (B, H, W) per-pixel labels in;
/// (B K)-row views out, example i's in rows i K .. i K + K - 1 (labels
/// repeated, masks cropped and flipped with their image), row r transformed by
/// transforms[r] (which must hold B K views). Throws std::invalid_argument when
/// p >= H or p >= W (reflection needs p < size) or the counts disagree.
std::pair<torch::Tensor, torch::Tensor> apply_views(const torch::Tensor& x, const torch::Tensor& y,
                                                    const ViewTransforms& transforms,
                                                    const ViewOptions& options);

/// draw_view_transforms for x's B K views, then apply_views.
std::pair<torch::Tensor, torch::Tensor> make_views(const torch::Tensor& x, const torch::Tensor& y,
                                                   const ViewOptions& options, at::Generator& rng);

}  // namespace dpsgd::data
