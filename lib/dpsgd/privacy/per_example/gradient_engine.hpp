#pragma once
// Per-example gradient engines: each adds sum_i clip(grad_i) over a chunk of
// examples to running sums, where clip() applies the clipper's factors. They
// differ only in how per-example information is obtained:
//   loop        one forward/backward per example (the oracle for tests),
//   materialize per-layer per-example gradients from (activation, output grad),
//   ghost       per-example norms without materialising, then the clipped sum as
//               one weighted product per layer (book-keeping): no second backward;
//   microbatch  one forward/backward per microbatch, whose mean gradient is
//               clipped (TF Privacy's microbatches; see microbatch_engine.cpp).
// Which engine serves which clipping method is decided in engine_choice.hpp.
// All engines are exact for every clipper that only needs norms (flat, per-layer,
// automatic, adaptive); methods that mask coordinates need per-example
// gradients (loop, materialize). Tests check every engine against the loop.
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/util/autocast.hpp"
#include "dpsgd/util/phase_clock.hpp"

namespace dpsgd::privacy {

/// Per-example outcomes of one chunk (all of shape (B) unless noted).
struct ChunkStats {
  torch::Tensor losses;
  torch::Tensor scores;
  torch::Tensor norms;    ///< whole-model gradient norm before clipping
  torch::Tensor factors;  ///< (B, P) clipping factors that were applied
};

using util::PhaseClock;
using util::PhaseScope;

class GradientEngine {
 public:
  virtual ~GradientEngine() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  /// Adds the clipped per-example gradients of (x, y) to `sums` (one per
  /// PrivateModel parameter, same shape) and returns per-example statistics.
  /// With EngineContext::views = K > 1, rows i K .. i K + K - 1 of (x, y) are
  /// the K views of example i: its gradient is the mean of theirs, clipped once,
  /// and the statistics have one entry per example.
  virtual ChunkStats accumulate(const torch::Tensor& x, const torch::Tensor& y,
                                std::vector<torch::Tensor>& sums, PhaseClock* clock) = 0;
};

struct EngineContext {
  const PrivateModel* model = nullptr;
  const models::Objective* objective = nullptr;
  const Clipper* clipper = nullptr;
  /// Augmentation multiplicity: consecutive rows per example (see accumulate).
  std::int64_t views = 1;
  /// kBf16: forward passes under autocast; per-example work stays float32.
  util::Precision precision = util::Precision::kFloat32;
};

std::unique_ptr<GradientEngine> make_loop_engine(const EngineContext& context);
std::unique_ptr<GradientEngine> make_materialize_engine(const EngineContext& context);
std::unique_ptr<GradientEngine> make_ghost_engine(const EngineContext& context);
std::unique_ptr<GradientEngine> make_microbatch_engine(const EngineContext& context);

/// Multiplies each per-example gradient (B, *shape) or gradient (*shape) by the
/// clipper's coordinate mask for parameter k, in place; no-op without masks.
void apply_coordinate_mask(const Clipper& clipper, std::size_t k, torch::Tensor& grad);

}  // namespace dpsgd::privacy
