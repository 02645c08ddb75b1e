#pragma once
// The shared first half of the vectorized engines: one forward and one backward
// of the sum of per-example losses with the activation capture installed.
#include "dpsgd/privacy/per_example/activation_capture.hpp"
#include "dpsgd/privacy/per_example/gradient_engine.hpp"

namespace dpsgd::privacy {

struct TappedPassResult {
  torch::Tensor losses;  ///< (B), detached
  torch::Tensor scores;  ///< (B)
};

/// (B): the mean of each group of `views` consecutive rows of (B K) values.
torch::Tensor group_mean(const torch::Tensor& rows, std::int64_t views);

/// One forward (under the context's autocast) and one backward of the summed
/// per-row losses (divided by the views per example) with the capture installed;
/// losses and scores per example (group means with views). Afterwards
/// capture.pair(l) holds every layer's (a, g).
TappedPassResult tapped_pass(const EngineContext& context, ActivationCapture& capture,
                             const torch::Tensor& x, const torch::Tensor& y, PhaseClock* clock);

}  // namespace dpsgd::privacy
