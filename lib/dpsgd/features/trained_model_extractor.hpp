#pragma once
// The `model` extractor: the penultimate layer of a model that a dpsgd run saved
// (model.pt, with the run's config.yaml naming the model). This is how "pretrain
// on public data, train privately on its features" runs: a run on data declared
// public (usually non-private), then a private run whose features come from it.
// Privacy: the extractor's weights are fixed before the private run and depend
// on the public data only; each private example's features are a function of that
// example alone, so they cost nothing. Whether the pretraining data really is
// public is the user's declaration; the run summary states it.
#include <cstdint>
#include <vector>

#include "dpsgd/features/feature_extractor.hpp"
#include "dpsgd/features/feature_options.hpp"
#include "dpsgd/models/model.hpp"

namespace dpsgd::features {

class TrainedModelExtractor final : public FeatureExtractor {
 public:
  /// Builds the run's model for inputs of `example_shape` and loads its model.pt.
  /// Throws std::runtime_error naming the file when it is missing or does not fit.
  TrainedModelExtractor(const TrainedModelSettings& settings,
                        const std::vector<std::int64_t>& example_shape,
                        const torch::Device& device);
  torch::Tensor extract(const torch::Tensor& inputs) override;
  [[nodiscard]] nlohmann::json fingerprint() const override;
  [[nodiscard]] std::string provenance() const override;

 private:
  TrainedModelSettings settings_;
  models::ModelPtr model_;
  std::string file_hash_;
};

}  // namespace dpsgd::features
