#pragma once
// A clipping mode, the extension point behind YAML `privacy.clipping.mode`: it
// reads its own options (the keys it owns under privacy.clipping), echoes them
// for the resolved config, states what the engines must provide for it, and
// makes its clipper once the model is known. A new mode is one file pair (the
// clipper and its mode) plus one registration line in clipper_registry.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/util/option_reader.hpp"

namespace dpsgd::privacy {

/// What a clipper may need to know about the run (not user options).
struct ClippingRunFacts {
  double expected_batch_size = 1.0;  ///< q N
  double noise_multiplier = 0.0;     ///< the accountant's sigma
  std::int64_t steps_per_epoch = 1;
  std::int64_t epochs = 1;
  /// The run seed: a clipper derives its own stream from it (util/seeds.hpp).
  std::uint64_t run_seed = 0;
  /// privacy.secure_rng: the clipper's random choices come from the OS CSPRNG.
  bool secure_rng = false;
};

using ClipperMaker =
    std::function<std::shared_ptr<Clipper>(const PrivateModel&, const ClippingRunFacts&)>;

/// One mode's options as read from the config: everything below the config edge
/// needs about the clipping choice, with no mode name to compare against.
struct ClippingSpec {
  std::string mode;            ///< the registry key, for the echo and the logs only
  double max_grad_norm = 1.0;  ///< C (the initial C for adaptive)
  ClippingNeeds needs;         ///< what the engine must provide (engine_choice.hpp)
  nlohmann::json echo;         ///< the options as resolved, `mode` included
  ClipperMaker make;           ///< throws std::invalid_argument on a model mismatch
};

/// A registry entry: the keys the mode owns (besides `mode`) and its reader.
struct ClippingMode {
  std::vector<std::string> keys;
  std::function<ClippingSpec(util::OptionReader&)> read;
};

/// max_grad_norm, the key every mode has: a number > 0.
double read_max_grad_norm(util::OptionReader& reader, double fallback = 1.0);

}  // namespace dpsgd::privacy
