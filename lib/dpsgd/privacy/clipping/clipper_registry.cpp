#include "dpsgd/privacy/clipping/clipper_registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"
#include "dpsgd/privacy/clipping/automatic_clipper.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/clipping/per_layer_clipper.hpp"
#include "dpsgd/privacy/clipping/random_sparsification.hpp"
#include "dpsgd/util/json_option_reader.hpp"

namespace dpsgd::privacy {

void register_builtin_clippers(ClipperRegistry& registry) {
  registry.add("flat", "min(1, C/||g_i||) over the whole model (Abadi et al. 2016)",
               flat_clipping_mode());
  registry.add("per_layer", "min(1, C_l/||g_il||) per layer, C_l = C/sqrt(L) or a list",
               per_layer_clipping_mode());
  registry.add("automatic", "AUTO-S/AUTO-V normalisation C/(||g_i|| + gamma) (Bu et al. 2022)",
               automatic_clipping_mode());
  registry.add("random_sparsification",
               "random coordinate mask before clipping, gradual cooling (Zhu & Blaschko 2023)",
               random_sparsification_clipping_mode());
  registry.add("adaptive", "quantile-tracking threshold with a noisy count (Andrew et al. 2021)",
               adaptive_clipping_mode());
}

const ClipperRegistry& clipper_registry() {
  static const ClipperRegistry registry = [] {
    ClipperRegistry r("clipping mode");
    register_builtin_clippers(r);
    return r;
  }();
  return registry;
}

ClippingSpec make_clipping_spec(const std::string& mode, const nlohmann::json& options) {
  const auto& entry = clipper_registry().get(mode);
  for (const auto& [key, value] : options.items()) {
    if (std::find(entry.keys.begin(), entry.keys.end(), key) == entry.keys.end()) {
      throw std::invalid_argument("clipping mode '" + mode + "' has no key '" + key + "'");
    }
  }
  util::JsonOptionReader reader(options, "privacy.clipping");
  auto spec = entry.read(reader);
  spec.mode = mode;
  spec.echo["mode"] = mode;
  return spec;
}

}  // namespace dpsgd::privacy
