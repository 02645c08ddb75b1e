#include "dpsgd/privacy/per_example/engine_registry.hpp"

#include <stdexcept>

namespace dpsgd::privacy {

void register_builtin_engines(EngineRegistry& registry) {
  registry.add("loop", "one backward per example (exact oracle, slow)",
               {{/*per_example_gradients=*/true, /*clips_microbatches=*/false, /*oracle=*/true},
                make_loop_engine});
  registry.add("materialize", "per-layer per-example gradients from activations",
               {{true, false}, make_materialize_engine});
  registry.add("ghost", "ghost norms + book-keeping clipped sum (one backward)",
               {{false, false}, make_ghost_engine});
  registry.add("microbatch",
               "TF-Privacy microbatches: one backward per microbatch, its mean gradient clipped "
               "(needs privacy.microbatches > 0)",
               {{true, true}, make_microbatch_engine});
  registry.add(kAutoEngine,
               "the fastest exact engine for the clipping method and microbatches "
               "(ghost; materialize for coordinate masks; microbatch with microbatches)",
               {{}, [](const EngineContext&) -> std::unique_ptr<GradientEngine> {
                  throw std::logic_error("engine 'auto' must be resolved by choose_engine");
                }});
}

const EngineRegistry& engine_registry() {
  static const EngineRegistry registry = [] {
    EngineRegistry r("engine");
    register_builtin_engines(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::privacy
