#pragma once
// The typed `features:` section: which fixed extractor turns each input into
// features, how the features are normalised, and where they are cached.
// Filled by config/features_section.cpp; nothing below reads YAML.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::features {

/// The `none` extractor: the inputs go to the model as they are.
inline constexpr const char* kNoExtractor = "none";

/// Normalisations that cost no privacy: each is a function of one example alone.
enum class Normalisation {
  kNone,
  /// Tramer & Boneh (ICLR 2021, Sec. 3): GroupNorm without affine parameters over
  /// the channels of the scattering output, per example: zero mean and unit
  /// variance within each group of channels (and all positions).
  kGroupNorm,
};

struct ScatterNetSettings {
  std::int64_t J = 2;  ///< scales: the output is 2^J times smaller per side
  std::int64_t L = 8;  ///< angles
};

/// `model`: the penultimate layer of a model a dpsgd run saved (model.pt).
struct TrainedModelSettings {
  std::filesystem::path run;  ///< the run folder: config.yaml and model.pt
  /// Content hash of its model.pt when the config was read; a resolved config
  /// carries it, so a run whose extractor changed since is refused (not resumed,
  /// skipped or evaluated on other features).
  std::string model_hash;
  /// The user's statement that the run's training data is public (required when
  /// it trained on the data set of the private run).
  bool declare_public = false;
  std::string model_name;  ///< from the run's config.yaml
  models::ModelOptions options;
  /// The run's data section and privacy setting, for the run summary's data splits.
  nlohmann::json trained_on;
};

struct TorchScriptSettings {
  std::filesystem::path file;
  std::string file_hash;  ///< content hash of the file when the config was read (see model_hash)
  std::string output;     ///< "": the module's output; "a.b": that submodule run on the inputs
  std::int64_t repeat_channels = 0;  ///< 0: as is; e.g. 3: grey images repeated to RGB
  std::int64_t resize = 0;           ///< 0: as is; else bilinear to resize x resize
  std::vector<double> mean, std;     ///< per channel, after repeat and resize; empty: none
};

struct FeatureOptions {
  std::string extractor = kNoExtractor;  ///< extractor registry key
  ScatterNetSettings scatternet;
  TorchScriptSettings torchscript;
  TrainedModelSettings model;
  Normalisation normalisation = Normalisation::kNone;
  std::int64_t groups = 27;  ///< group_norm: groups of channels (must divide the channels)
  /// Where extracted features are kept, keyed by a hash of the extractor's
  /// settings and the data; empty: ~/.cache/dpsgd/features (XDG_CACHE_HOME honoured).
  std::filesystem::path cache_dir;
  std::int64_t batch_size = 512;  ///< examples per extraction chunk

  [[nodiscard]] bool enabled() const { return extractor != kNoExtractor; }
};

}  // namespace dpsgd::features
