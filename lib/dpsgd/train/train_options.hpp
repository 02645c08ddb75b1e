#pragma once
// Typed options of one training run (filled from YAML by config/).
#include <cstdint>

#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/util/autocast.hpp"

namespace dpsgd::train {

struct TrainOptions {
  std::int64_t epochs = 1;
  std::int64_t batch_size = 256;         ///< expected (Poisson) or fixed batch size
  std::int64_t physical_batch_size = 0;  ///< chunk size for memory; 0 = no chunking
  std::int64_t eval_batch_size = 2048;
  data::Sampling sampling = data::Sampling::kPoisson;
  std::uint64_t seed = 0;
  /// privacy.secure_rng: batches drawn from the OS CSPRNG, not the seeded stream.
  bool secure_rng = false;
  /// YAML data.augment.hflip: each drawn training example (image and mask) is
  /// flipped left-right with probability 1/2, independently, from a seeded stream.
  bool augment_hflip = false;
  /// YAML data.augment.multiplicity: K augmented views of every drawn example
  /// (De et al. 2022); its per-example gradient is the mean over its views,
  /// clipped once (1: off). With K > 1 the flips and crops are drawn per view.
  std::int64_t augment_multiplicity = 1;
  /// YAML data.augment.crop_padding: each view is a random crop of the example
  /// reflection-padded by this many pixels per side, at the original size (0: off).
  std::int64_t augment_crop_padding = 0;
  /// YAML train.ema.decay: an exponential moving average of the weights,
  /// evaluated next to the raw weights (0: off). Post-processing: no privacy cost.
  double ema_decay = 0.0;
  /// YAML train.ema.warmup: the decay at update t is min(decay, (1 + t) / (10 + t)).
  bool ema_warmup = true;
  /// YAML train.precision: float32, or bf16 autocast for forward passes.
  util::Precision precision = util::Precision::kFloat32;
  double flush_every_s = 5.0;
  /// YAML output.checkpoint_every_s: a checkpoint at most this often (0: after
  /// every step), and always at every epoch end.
  double checkpoint_every_s = 120.0;
  /// YAML train.divergence_steps: this many consecutive steps with a non-finite
  /// loss end the run as "diverged" (0: never).
  std::int64_t divergence_steps = 10;
  /// YAML output.unprotected_columns: write the per-step columns computed from the
  /// private batch without noise (loss, score, batch size, clipped fraction, norms,
  /// step time), which the (epsilon, delta) guarantee does not cover.
  bool unprotected_columns = true;
  double log_every_s = 10.0;
  /// The delta at which epsilon is reported (private runs).
  double delta = 1e-5;
};

}  // namespace dpsgd::train
