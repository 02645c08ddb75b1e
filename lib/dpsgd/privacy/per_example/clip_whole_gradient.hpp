#pragma once
// Clipping of one whole gradient (one example's for the loop, one microbatch's
// mean for the microbatch engine) that plain autograd produced: mask it, take
// its per-parameter squared norms, ask the clipper for the factors and add the
// clipped gradient to the running sums. A gradient that is not finite adds
// nothing and gets factors 0 (finite_examples.hpp).
#include <vector>

#include <torch/torch.h>

#include "dpsgd/privacy/clipping/clipper.hpp"

namespace dpsgd::privacy {

struct ClippedGradient {
  torch::Tensor sq_norms;  ///< (1, P) per-parameter squared norms, after any mask
  torch::Tensor factors;   ///< (1, P) the factors that were applied
};

/// `grads` (undefined entries: unused parameters, taken as zero) is modified in
/// place by the mask; `params` gives the shapes of undefined entries.
ClippedGradient clip_and_add(const Clipper& clipper, const std::vector<torch::Tensor>& params,
                             std::vector<torch::Tensor>& grads, std::vector<torch::Tensor>& sums);

}  // namespace dpsgd::privacy
