#pragma once
// Examples whose clipped gradients are given rather than computed from data: the
// gradient canaries of a privacy audit (audit/gradient_canaries.hpp). The private
// step adds their contributions to its clipped sum before the noise, exactly as
// if each were an example of the batch whose clipped gradient is that vector. So
// each must join a step's batch independently with the step's Poisson rate q and
// contribute a vector of L2 norm at most the clipper's sensitivity Delta; the
// step's (add/remove-one, Poisson-sampled Gaussian) guarantee then covers each of
// them as it covers every real example (Abadi et al. 2016, Algorithm 1): a
// canary is the worst-case example the analysis allows, which is why the audit
// injects it (Steinke, Nasr, Jagielski 2023, Sec. 6, "gradient space" canaries).
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::privacy {

class InjectedExamples {
 public:
  virtual ~InjectedExamples() = default;
  /// Adds to `sums` (one tensor per trainable parameter) the contribution of
  /// every injected example that step `step` samples (each with probability q,
  /// independently, a function of (step, example) alone so that a resumed run
  /// draws the same); each contribution has L2 norm at most `sensitivity`.
  /// Returns how many were added.
  virtual std::int64_t add_to(std::vector<torch::Tensor>& sums, std::int64_t step, double q,
                              double sensitivity) = 0;
};

}  // namespace dpsgd::privacy
