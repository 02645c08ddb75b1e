#pragma once
// The `sweep:` and `tuning:` blocks of an experiment file, read before the rest:
// a sweep becomes a list of points, each a set of dotted-key settings applied to
// the file like a variant's (yaml_overrides.hpp), so every point goes through
// exactly the checks of a hand-written config.
//   sweep:
//     mode: grid            # every combination of the lists (default), or random
//     draws: 8              # random: this many points, each key drawn uniformly
//     keys:                 # any dotted keys, each with a list of values
//       train.optimizer.lr: [0.5, 1.0, 2.0]
//       privacy.clipping.max_grad_norm: [0.1, 1.0]
//   tuning:                 # release only the best run (tuning/selection_privacy.hpp)
//     metric: accuracy      # on the validation split
//     mode: max             # or min
//     trials: every         # every point once (full composition), poisson (mean:)
//                           # or truncated_negative_binomial (eta:, gamma:)
// A point's name (its variant, so its folder) names its settings, e.g.
// lr0.5_max_grad_norm0.1; random draws and random trials are numbered
// (draw2_..., trial2_...) and get their own seed, so a point drawn twice is two
// independent runs, as Papernot and Steinke's analysis requires of trials. The
// draws come from SeedStream::kTuningTrials; privacy.secure_rng with random
// draws or trials is refused (not implemented: the count would have to be
// drawn from the OS CSPRNG and kept secret across shards and resumes).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "dpsgd/config/experiment_config.hpp"

namespace dpsgd::config {

struct SweepPoint {
  std::string name;  ///< empty: the file's own settings (no sweep)
  std::vector<std::pair<std::string, YAML::Node>> settings;
  std::optional<std::uint64_t> seed;  ///< a random draw's or trial's own run seed
};

struct SweepPlan {
  std::vector<SweepPoint> points;  ///< one unnamed point when the file has no sweep
  TuningConfig tuning;
  /// The swept keys: --set may not change them (every point would be the same).
  std::vector<std::string> keys;
};

/// Reads and removes `sweep` and `tuning` from `root` (util::UserError naming
/// the file and key for any bad value).
SweepPlan read_sweep(YAML::Node& root, const std::string& file);

}  // namespace dpsgd::config
