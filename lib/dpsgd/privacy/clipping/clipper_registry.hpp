#pragma once
// Clipper registry, keyed by YAML `privacy.clipping.mode`. Each factory gets
// the typed clipping options, the checked model (per-layer methods need its
// layers) and the facts of the run the clipper will serve.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "dpsgd/privacy/clipping/automatic_clipper.hpp"
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::privacy {

struct ClippingOptions {
  double max_grad_norm = 1.0;                ///< C (the initial C for adaptive)
  std::vector<double> layer_max_grad_norms;  ///< per-layer C_l; empty: C / sqrt(L) each
  bool per_layer = false;  ///< automatic, random_sparsification: the per-layer variant
  AutomaticVariant automatic_variant = AutomaticVariant::kS;
  double gamma = 0.01;           ///< AUTO-S stability constant
  double final_rate = 0.9;       ///< random sparsification: final dropped fraction
  std::int64_t refresh = 1;      ///< random sparsification: mask redraws per epoch
  double target_quantile = 0.5;  ///< adaptive
  double quantile_lr = 0.2;      ///< adaptive: eta_C
  double count_noise_std = 0.0;  ///< adaptive: sigma_b; 0 = expected batch / 20
};

/// What a clipper may need to know about the run (not user options).
struct ClippingRunFacts {
  double expected_batch_size = 1.0;  ///< q N
  double noise_multiplier = 0.0;     ///< the accountant's sigma
  std::int64_t steps_per_epoch = 1;
  std::int64_t epochs = 1;
  std::uint64_t seed = 0;  ///< for the clipper's own random choices
};

using ClipperFactory = std::function<std::shared_ptr<Clipper>(
    const ClippingOptions&, const PrivateModel&, const ClippingRunFacts&)>;
using ClipperRegistry = util::Registry<ClipperFactory>;

void register_builtin_clippers(ClipperRegistry& registry);
const ClipperRegistry& clipper_registry();

}  // namespace dpsgd::privacy
