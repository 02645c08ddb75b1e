#pragma once
// The feature-extractor registry (YAML `features.extractor`): name -> factory.
// Filled in one function, register_builtin_extractors.
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/features/feature_extractor.hpp"
#include "dpsgd/features/feature_options.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::features {

/// Builds an extractor for inputs of `example_shape` (one example, e.g. {1, 28, 28}).
using ExtractorFactory = std::function<FeatureExtractorPtr(
    const FeatureOptions&, const std::vector<std::int64_t>& example_shape, const torch::Device&)>;
using ExtractorRegistry = util::Registry<ExtractorFactory>;

void register_builtin_extractors(ExtractorRegistry& registry);
const ExtractorRegistry& extractor_registry();

}  // namespace dpsgd::features
