#include "dpsgd/features/scatternet_extractor.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace dpsgd::features {

ScatterNetExtractor::ScatterNetExtractor(int J, int L, std::int64_t height, std::int64_t width)
    : scattering_(J, L, height, width) {}

torch::Tensor ScatterNetExtractor::extract(const torch::Tensor& inputs) {
  if (inputs.dim() != 4) {
    std::ostringstream msg;
    msg << "ScatterNetExtractor: expected N x C x H x W inputs, got " << inputs.sizes();
    throw std::invalid_argument(msg.str());
  }
  const torch::NoGradGuard no_grad;
  const std::int64_t n = inputs.size(0);
  auto out = torch::empty({n, inputs.size(1) * scattering_.channels_per_input(),
                           scattering_.output_height(), scattering_.output_width()},
                          inputs.options().dtype(torch::kFloat32));
  // Each example's features depend on that example alone, so chunking changes nothing but
  // the peak memory.
  for (std::int64_t start = 0; start < n; start += kChunkSize) {
    const std::int64_t len = std::min(kChunkSize, n - start);
    out.narrow(0, start, len).copy_(scattering_.transform(inputs.narrow(0, start, len)));
  }
  return out;
}

nlohmann::json ScatterNetExtractor::fingerprint() const {
  return {{"extractor", "scatternet"},      {"J", scattering_.J()},         {"L", scattering_.L()},
          {"height", scattering_.height()}, {"width", scattering_.width()}, {"version", 1}};
}

std::string ScatterNetExtractor::provenance() const {
  return "Morlet wavelet scattering, J=" + std::to_string(scattering_.J()) +
         ", L=" + std::to_string(scattering_.L()) +
         " (Mallat 2012; Oyallon & Mallat 2015): no data";
}

}  // namespace dpsgd::features
