#include "dpsgd/privacy/per_example/engine_registry.hpp"

namespace dpsgd::privacy {

void register_builtin_engines(EngineRegistry& registry) {
  registry.add("loop", "one backward per example (exact oracle, slow)", make_loop_engine);
  registry.add("materialize", "per-layer per-example gradients from activations",
               make_materialize_engine);
  registry.add("ghost", "ghost norms + book-keeping clipped sum (one backward)", make_ghost_engine);
  // Norm-only clipping (flat, per-layer, automatic, adaptive) needs norms and a
  // weighted sum, for which ghost is exact and the fastest; the per-example
  // gradients it keeps never outgrow the activations it captured anyway (see
  // ghost_engine.cpp). Coordinate masks need per-example gradients (materialize);
  // microbatches need one backward per microbatch (the loop).
  registry.add("auto",
               "the fastest exact engine for the clipping method (ghost; materialize for "
               "random_sparsification; loop for microbatches)",
               [](const EngineContext& context) {
                 if (context.microbatches > 0) return make_microbatch_engine(context);
                 if (context.clipper->uses_coordinate_masks()) {
                   return make_materialize_engine(context);
                 }
                 return make_ghost_engine(context);
               });
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
