#pragma once
// The checked, float64 inputs of a private head fit. The solves and the gradient
// steps run in float64 so that noise-free fits match their closed forms to round-off
// and the ill-conditioned systems of tiny clip norms (Mehta et al. clip features
// to 5e-3) do not lose their digits; the head is converted back at the end.
#include <cstdint>

#include <torch/torch.h>

namespace dpsgd::heads {

struct HeadInputs {
  torch::Tensor features;               ///< N x D' float64 ([x, 1] when fit_bias)
  torch::Tensor labels;                 ///< N int64 in [0, K)
  torch::TensorOptions output_options;  ///< the head's dtype and device
};

/// Checks shapes (N x D features, N labels, K >= 1, labels in [0, K)) and throws
/// std::invalid_argument on a mismatch; appends the bias column when `fit_bias`.
HeadInputs prepare_head_inputs(const torch::Tensor& features, const torch::Tensor& labels,
                               std::int64_t num_classes, bool fit_bias);

}  // namespace dpsgd::heads
