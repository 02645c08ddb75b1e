#pragma once
// A fixed feature extractor: a function of one example alone, fitted on nothing
// private (a wavelet filter bank, or a backbone trained on data declared public).
// Because each example's features depend on that example only, extracting them
// costs no privacy: an add/remove-one neighbour changes one row of the feature
// matrix, exactly as it changed one row of the input. The private heads
// (heads/, and DP-SGD on a linear model) then see features instead of images.
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace dpsgd::features {

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  /// The features of a batch of inputs (N x C x H x W float32 on `device()`):
  /// N x ... float32 on the same device, each row a function of its input row only.
  virtual torch::Tensor extract(const torch::Tensor& inputs) = 0;
  /// Everything the output depends on besides the inputs (the extractor's name and
  /// settings, a content hash of every file it reads), for the feature cache's key.
  [[nodiscard]] virtual nlohmann::json fingerprint() const = 0;
  /// What public knowledge the extractor embodies, for the run summary's data
  /// splits, e.g. "Morlet wavelets (no data)" or "TorchScript file x.pt".
  [[nodiscard]] virtual std::string provenance() const = 0;
};

using FeatureExtractorPtr = std::unique_ptr<FeatureExtractor>;

}  // namespace dpsgd::features
