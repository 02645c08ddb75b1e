#pragma once
// The per-example gradient engine registry, keyed by YAML `privacy.engine`.
#include <functional>
#include <memory>

#include "dpsgd/privacy/per_example/gradient_engine.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::privacy {

using EngineFactory = std::function<std::unique_ptr<GradientEngine>(const EngineContext&)>;
using EngineRegistry = util::Registry<EngineFactory>;

/// Fills `registry` with loop, materialize, ghost and auto.
void register_builtin_engines(EngineRegistry& registry);
const EngineRegistry& engine_registry();

}  // namespace dpsgd::privacy
