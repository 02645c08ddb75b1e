#pragma once
// A linear classification head on fixed features: logits = X W^T + b. It is what
// the private heads (DP-LS, DP-FC) release; the layout (weight K x D, bias K) is
// torch::nn::Linear(D, K)'s, so it is saved as the state dict {"weight", "bias"}
// and loads into a Linear layer unchanged. Holding it costs no privacy beyond the
// mechanism that fitted it (post-processing).
#include <torch/torch.h>

namespace dpsgd::heads {

struct LinearHead {
  torch::Tensor weight;  ///< K x D
  torch::Tensor bias;    ///< K
};

/// N x K logits of the N x D `features`, computed in the head's dtype.
torch::Tensor logits(const LinearHead& head, const torch::Tensor& features);

}  // namespace dpsgd::heads
