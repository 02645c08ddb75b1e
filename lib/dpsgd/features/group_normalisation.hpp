#pragma once
// Per-example group normalisation of features (Tramer & Boneh, ICLR 2021, Sec. 3:
// GroupNorm of the ScatterNet channels, without affine parameters; Wu & He 2018).
// For each example separately, the channels are cut into `groups` contiguous
// groups and each group (all its channels and positions) is shifted to mean 0 and
// scaled to variance 1: x <- (x - mean) / sqrt(var + eps), var the biased variance.
// Privacy: the output row depends on its own input row only, so this costs
// nothing under add/remove-one neighbours; statistics pooled over examples (a
// data set's mean and variance) would need their own mechanism.
#include <cstdint>

#include <torch/torch.h>

namespace dpsgd::features {

/// `features` is N x C x ... (C divisible by `groups`) or N x D (D divisible by
/// `groups`); returns the same shape. Throws std::invalid_argument otherwise.
torch::Tensor group_normalise(const torch::Tensor& features, std::int64_t groups,
                              double eps = 1e-5);

}  // namespace dpsgd::features
