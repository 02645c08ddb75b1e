#pragma once
// The model registry, keyed by the YAML `model.name`.
#include <functional>

#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/model_options.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::models {

using ModelFactory = std::function<ModelPtr(const ModelOptions&)>;
using ModelRegistry = util::Registry<ModelFactory>;

/// Fills `registry` with every built-in model. The one place models are named.
void register_builtin_models(ModelRegistry& registry);

/// The built-in registry (filled on first use).
const ModelRegistry& model_registry();

}  // namespace dpsgd::models
