#include "dpsgd/privacy/clipper_registry.hpp"

#include "dpsgd/privacy/flat_clipper.hpp"

namespace dpsgd::privacy {

void register_builtin_clippers(ClipperRegistry& registry) {
  registry.add("flat", "min(1, C/||g_i||) over the whole model (Abadi et al. 2016)",
               [](const ClippingOptions& o) -> std::shared_ptr<const Clipper> {
                 return std::make_shared<FlatClipper>(o.max_grad_norm);
               });
}

const ClipperRegistry& clipper_registry() {
  static const ClipperRegistry registry = [] {
    ClipperRegistry r("clipping mode");
    register_builtin_clippers(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::privacy
