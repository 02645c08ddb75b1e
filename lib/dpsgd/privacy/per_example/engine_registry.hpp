#pragma once
// The per-example gradient engine registry, keyed by YAML `privacy.engine`. Each
// entry states what the engine can do; which engine a run gets, and which pairs
// of engine and clipping method are refused, is decided in one place only:
// engine_choice.hpp.
#include <functional>
#include <memory>

#include "dpsgd/privacy/per_example/gradient_engine.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::privacy {

using EngineFactory = std::function<std::unique_ptr<GradientEngine>(const EngineContext&)>;

/// What an engine can do, for the compatibility rule.
struct EngineTraits {
  /// Forms each example's gradient, so coordinate masks can be applied before norms.
  bool per_example_gradients = false;
  /// Clips the mean gradient of each microbatch (privacy.microbatches > 0), not examples.
  bool clips_microbatches = false;
  /// The slow reference the others are tested against; the bench leaves it out.
  bool oracle = false;
};

struct EngineEntry {
  EngineTraits traits;
  /// For `auto` a factory that throws: engine_choice resolves auto to a real engine first.
  EngineFactory make;
};
using EngineRegistry = util::Registry<EngineEntry>;

/// The name under which `auto` is registered.
inline constexpr const char* kAutoEngine = "auto";

/// Fills `registry` with loop, materialize, ghost, microbatch and auto.
void register_builtin_engines(EngineRegistry& registry);
const EngineRegistry& engine_registry();

}  // namespace dpsgd::privacy
