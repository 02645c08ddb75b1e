#pragma once
// Clipping of per-example gradients.
//
// A clipper turns per-example, per-parameter squared gradient norms into
// per-example, per-parameter factors c_ik, so the clipped sum is
// S = sum_i (c_ik * m_k * grad_ik)_k, where m_k is an optional coordinate mask
// (random sparsification; all ones otherwise). Its sensitivity() is the bound on
// ||S(D) - S(D')||_2 for datasets D, D' differing by adding or removing one
// example, which the Gaussian noise is scaled by (noise std = sigma *
// sensitivity). Each clipper proves its bound in its header.
//
// Clippers may carry state across steps (the adaptive threshold, the
// sparsification mask); DpGradient drives it through begin_step/end_step, and
// every random choice a clipper makes comes from its own random source (a
// stream of the run's seed, or the OS CSPRNG under privacy.secure_rng), never
// from the gradient noise's source. state()/load_state() carry that state
// across a checkpoint.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/util/state_map.hpp"

namespace dpsgd::privacy {

/// What a clipping method needs from the per-example engine; the one owner of
/// engine compatibility (per_example/engine_choice.hpp) decides from this.
struct ClippingNeeds {
  /// Masks coordinates of every per-example gradient before its norm is taken
  /// (random sparsification): needs materialised per-example gradients.
  bool coordinate_masks = false;
  /// Releases a statistic counted per example (adaptive clipping's noisy count),
  /// whose sensitivity analysis does not hold for microbatches.
  bool per_example_count = false;
};

class Clipper {
 public:
  virtual ~Clipper() = default;
  /// Factors (B, P) from per-parameter squared norms (B, P) of the (masked)
  /// per-example gradients.
  [[nodiscard]] virtual torch::Tensor factors(const torch::Tensor& sq_norms) const = 0;
  /// L2 sensitivity of the clipped sum under add/remove-one neighbouring
  /// datasets, for the step in progress.
  [[nodiscard]] virtual double sensitivity() const = 0;
  [[nodiscard]] virtual std::string name() const = 0;

  /// Called before a step's first chunk; `step` counts from 0.
  virtual void begin_step(std::int64_t /*step*/) {}
  /// Per-parameter 0/1 masks applied to every per-example gradient before its
  /// norm is taken, and to the noise; null when the method keeps every coordinate.
  [[nodiscard]] virtual const std::vector<torch::Tensor>* coordinate_masks() const {
    return nullptr;
  }
  /// What this clipper needs from the engine (engines that cannot provide it
  /// are refused before any step).
  [[nodiscard]] virtual ClippingNeeds needs() const { return {}; }
  /// The noise multiplier for the gradient so that the whole step (the gradient
  /// plus any statistic the clipper releases, each with Gaussian noise) is a
  /// Gaussian mechanism with total noise multiplier `sigma`, the one the
  /// accountant is told. Identity unless the clipper releases something.
  [[nodiscard]] virtual double gradient_noise_multiplier(double sigma) const { return sigma; }
  /// Called after the step's noise was drawn, with every example's (masked)
  /// whole-model norm before clipping; stateful clippers update here and draw
  /// any noise they need from their own source.
  virtual void end_step(const torch::Tensor& /*norms*/, double /*expected_batch_size*/,
                        double /*sigma*/) {}
  /// Everything the clipper carries across steps (empty for stateless clippers),
  /// so that a clipper restored by load_state() continues exactly.
  [[nodiscard]] virtual util::StateMap state() const { return {}; }
  /// Restores a state(); throws std::runtime_error when it does not fit.
  virtual void load_state(const util::StateMap& /*state*/) {}
  /// Values worth a column in the per-step metrics (e.g. the current threshold).
  [[nodiscard]] virtual std::vector<std::pair<std::string, double>> log_values() const {
    return {};
  }
};

}  // namespace dpsgd::privacy
