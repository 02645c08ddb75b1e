#include "dpsgd/privacy/per_example/engine_choice.hpp"

#include <stdexcept>

#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::privacy {
namespace {

// Why `traits` cannot serve (needs, microbatches); empty when it can.
std::string incompatibility(const EngineTraits& traits, const ClippingNeeds& needs,
                            std::int64_t microbatches) {
  if (microbatches > 0 && !traits.clips_microbatches) {
    return "it clips examples, not microbatches (privacy.microbatches is set)";
  }
  if (microbatches == 0 && traits.clips_microbatches) {
    return "it clips microbatches, and privacy.microbatches is 0";
  }
  if (needs.coordinate_masks && !traits.per_example_gradients) {
    return "the clipping mode masks coordinates of each per-example gradient, which changes "
           "its norm; ghost norms cannot see the mask without materialising the gradients";
  }
  return {};
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::vector<std::string> compatible_engines(const ClippingNeeds& needs, std::int64_t microbatches) {
  std::vector<std::string> out;
  if (needs.per_example_count && microbatches > 0) return out;
  const auto& registry = engine_registry();
  for (const auto& name : registry.names()) {
    if (name == kAutoEngine) continue;
    if (incompatibility(registry.get(name).traits, needs, microbatches).empty()) {
      out.push_back(name);
    }
  }
  return out;
}

std::string choose_engine(const std::string& requested, const ClippingNeeds& needs,
                          std::int64_t microbatches) {
  if (microbatches < 0) throw std::invalid_argument("microbatches must be >= 0");
  if (needs.per_example_count && microbatches > 0) {
    throw std::invalid_argument(
        "the clipping mode releases a count per example (adaptive clipping), which cannot be "
        "combined with microbatches: set privacy.microbatches to 0");
  }
  if (requested == kAutoEngine) {
    if (microbatches > 0) return "microbatch";
    return needs.coordinate_masks ? "materialize" : "ghost";
  }
  const auto& entry = engine_registry().get(requested);  // unknown: lists the valid names
  const auto why = incompatibility(entry.traits, needs, microbatches);
  if (!why.empty()) {
    throw std::invalid_argument(util::cat("engine '", requested, "' cannot run this: ", why,
                                          "; engines that can: auto, ",
                                          joined(compatible_engines(needs, microbatches))));
  }
  return requested;
}

}  // namespace dpsgd::privacy
