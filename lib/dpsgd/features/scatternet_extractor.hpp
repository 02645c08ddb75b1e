#pragma once
// ScatterNet features (Tramer & Boneh, ICLR 2021): the 2-D Morlet scattering transform with
// J scales and L angles (J = 2, L = 8 gives 81 channels of 7 x 7 for a 28 x 28 image). Its
// filters are fixed by definition (Mallat 2012; Oyallon & Mallat 2015), so the extractor
// embodies no data at all, public or private.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/features/feature_extractor.hpp"
#include "dpsgd/features/scatternet/scattering2d.hpp"

namespace dpsgd::features {

class ScatterNetExtractor : public FeatureExtractor {
 public:
  /// Examples per transform call: bounds the intermediate tensors (about 200 MB of order-2
  /// spectra per 512 one-channel 28 x 28 images).
  static constexpr std::int64_t kChunkSize = 512;

  /// Throws std::invalid_argument unless height and width are multiples of 2^J (J >= 1, L >= 1).
  ScatterNetExtractor(int J, int L, std::int64_t height, std::int64_t width);

  /// inputs N x C x height x width -> N x (C*K) x height/2^J x width/2^J float32, on the
  /// inputs' device, computed kChunkSize examples at a time.
  torch::Tensor extract(const torch::Tensor& inputs) override;
  [[nodiscard]] nlohmann::json fingerprint() const override;
  [[nodiscard]] std::string provenance() const override;

  [[nodiscard]] const scatternet::Scattering2d& scattering() const { return scattering_; }

 private:
  scatternet::Scattering2d scattering_;
};

}  // namespace dpsgd::features
