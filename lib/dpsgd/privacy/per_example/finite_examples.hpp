#pragma once
// Robust clipping: an example whose gradient is not finite (a NaN or inf
// coordinate) contributes exactly nothing to the clipped sum, so one poisoned
// or overflowing example cannot turn the released update into NaN. It is
// detected by its per-parameter squared norms: NaN and inf propagate through
// squares and sums of non-negative terms, so a non-finite gradient has a
// non-finite squared norm (and a finite one whose square overflows is caught
// too, where C / inf would have given it factor 0 anyway).
//
// Every engine takes its factors from clip_factors(), the one place this rule
// lives: the factor of such an example is exactly 0. Since 0 * NaN = 0 * inf =
// NaN, a factor of 0 is not enough: the engines also replace the example's rows
// by zeros (zero_excluded) in whatever they multiply by the factors (its
// per-example gradients, or its captured activation and output gradient for the
// book-keeping product) before the sum is formed.
//
// Privacy: each example's term in the clipped sum is either its clipped
// gradient, within the clipper's bound, or 0, and whether it is 0 depends on
// that example's own gradient only; adding or removing one example therefore
// still changes the sum by at most the clipper's sensitivity(), and the noise
// scaled by it keeps its guarantee. For microbatches the same holds with
// "microbatch" for "example" (its clipped mean, or 0). The per-example norms
// handed to Clipper::end_step stay the raw, non-finite ones: adaptive
// clipping's count (norm <= C) counts such an example as not under the
// threshold, one example moving the count by at most 1 as before.
#include <torch/torch.h>

#include "dpsgd/privacy/clipping/clipper.hpp"

namespace dpsgd::privacy {

struct ClipFactors {
  torch::Tensor factors;      ///< (B, P) the clipper's factors, exactly 0 for excluded examples
  torch::Tensor finite;       ///< (B) bool: every squared norm of the example is finite
  bool any_excluded = false;  ///< some example is excluded (one host read per chunk)
};

/// The clipper's factors for per-parameter squared norms (B, P), with every
/// example whose squared norms are not all finite excluded (factor 0; the
/// clipper sees 0 in its place, so it never computes with NaN).
ClipFactors clip_factors(const Clipper& clipper, const torch::Tensor& sq_norms);

/// `rows` (B, ...) with the rows of excluded examples replaced by zeros, so that
/// multiplying them by their factor 0 gives 0; `rows` itself when nothing is
/// excluded or it is not floating point (e.g. embedding indices).
torch::Tensor zero_excluded(const torch::Tensor& rows, const ClipFactors& clip);

}  // namespace dpsgd::privacy
