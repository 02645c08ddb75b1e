#pragma once
// Turns the inputs of every data split into fixed features, once per (extractor,
// settings, data) thanks to the feature cache, then normalises them per example.
// Privacy: extraction and normalisation here are functions of one example each
// (feature_extractor.hpp, group_normalisation.hpp), so the features of a private
// data set cost no privacy; what was public (the extractor and whatever it was
// trained on) is reported for the run summary.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/features/feature_options.hpp"

namespace dpsgd::features {

struct FeatureReport {
  std::string provenance;      ///< what public knowledge the extractor embodies
  nlohmann::json fingerprint;  ///< the extractor's settings
  std::string cache_file;      ///< the cache entry used or written
  bool from_cache = false;
  double extract_seconds = 0.0;     ///< extraction (from the cache entry's note when cached)
  double load_seconds = 0.0;        ///< reading the cache entry
  std::vector<std::int64_t> shape;  ///< one example's features

  [[nodiscard]] nlohmann::json to_json() const;
};

using NamedSplit = std::pair<std::string, data::TensorDataset*>;

/// Replaces each split's inputs (on `device`) by their features on `device`.
/// Throws std::invalid_argument / std::runtime_error on a bad extractor setting.
FeatureReport apply_features(const FeatureOptions& options, const std::vector<NamedSplit>& splits,
                             const torch::Device& device);

}  // namespace dpsgd::features
