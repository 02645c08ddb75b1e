#pragma once
// The bias of a linear head fitted as one more weight: a constant column of ones
// appended to the features BEFORE they are clipped, so the clipped rows still have
// norm <= C and every sensitivity bound of noisy_statistics.hpp holds unchanged
// (the appended coordinate is part of the clipped row). Appending before clipping
// also keeps predictions consistent: a clipped row is s * [x, 1] with s > 0, whose
// logits s * (W x + b) have the same argmax as the raw row's W x + b.
#include <torch/torch.h>

#include "dpsgd/heads/linear_head.hpp"

namespace dpsgd::heads {

/// [x, 1] (N x (D + 1)) when `fit_bias`, else x.
torch::Tensor with_bias_column(const torch::Tensor& x, bool fit_bias);

/// The head of the K x D' augmented weight: its last column becomes the bias when
/// `fit_bias` (else the bias is zero); converted to `options` (dtype, device).
LinearHead split_bias(const torch::Tensor& augmented_weight, bool fit_bias,
                      const torch::TensorOptions& options);

}  // namespace dpsgd::heads
