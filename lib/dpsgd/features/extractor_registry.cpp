#include "dpsgd/features/extractor_registry.hpp"

#include "dpsgd/features/scatternet_extractor.hpp"
#include "dpsgd/features/torchscript_extractor.hpp"
#include "dpsgd/features/trained_model_extractor.hpp"

namespace dpsgd::features {

void register_builtin_extractors(ExtractorRegistry& registry) {
  registry.add(kNoExtractor, "no extractor: the model reads the inputs as they are",
               [](const FeatureOptions&, const std::vector<std::int64_t>&,
                  const torch::Device&) -> FeatureExtractorPtr {
                 throw std::logic_error("the 'none' extractor is never built");
               });
  registry.add("scatternet",
               "2-D scattering transform, Morlet wavelets (features.scatternet: J, L); "
               "Tramer & Boneh 2021",
               [](const FeatureOptions& o, const std::vector<std::int64_t>& shape,
                  const torch::Device& device) -> FeatureExtractorPtr {
                 if (shape.size() != 3) {
                   throw std::invalid_argument("scatternet needs images (C x H x W inputs)");
                 }
                 auto e = std::make_unique<ScatterNetExtractor>(static_cast<int>(o.scatternet.J),
                                                                static_cast<int>(o.scatternet.L),
                                                                shape[1], shape[2]);
                 (void)device;  // the filters follow the inputs' device
                 return e;
               });
  registry.add("torchscript",
               "a frozen backbone saved with torch.jit.save (features.torchscript.file), its "
               "output or a submodule's",
               [](const FeatureOptions& o, const std::vector<std::int64_t>& /*shape*/,
                  const torch::Device& device) -> FeatureExtractorPtr {
                 const auto& t = o.torchscript;
                 TorchScriptOptions options{t.file, t.output, t.repeat_channels, t.resize,
                                            t.mean, t.std,    o.batch_size};
                 return std::make_unique<TorchScriptExtractor>(options, device);
               });
  registry.add("model",
               "penultimate layer of a model a dpsgd run saved (features.model.run: its folder)",
               [](const FeatureOptions& o, const std::vector<std::int64_t>& shape,
                  const torch::Device& device) -> FeatureExtractorPtr {
                 return std::make_unique<TrainedModelExtractor>(o.model, shape, device);
               });
}

const ExtractorRegistry& extractor_registry() {
  static const ExtractorRegistry registry = [] {
    ExtractorRegistry r("feature extractor");
    register_builtin_extractors(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::features
