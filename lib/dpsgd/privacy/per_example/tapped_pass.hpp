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

/// Runs forward and backward; afterwards capture.pair(l) holds every layer's (a, g).
TappedPassResult tapped_pass(const EngineContext& context, ActivationCapture& capture,
                             const torch::Tensor& x, const torch::Tensor& y, PhaseClock* clock);

}  // namespace dpsgd::privacy
