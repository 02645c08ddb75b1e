#include "dpsgd/privacy/clipping/layer_thresholds.hpp"

#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/clipping/norm_groups.hpp"
#include "dpsgd/privacy/clipping/per_layer_clipper.hpp"

namespace dpsgd::privacy {

LayerThresholdOptions read_layer_thresholds(util::OptionReader& reader, bool always_per_layer) {
  LayerThresholdOptions o;
  reader.read_double_list(
      "layer_max_grad_norms", o.layer_max_grad_norms, [](double v) { return v > 0; },
      "a non-empty list of numbers > 0, one per layer");
  if (!always_per_layer) reader.read_bool("per_layer", o.per_layer);
  if (always_per_layer) o.per_layer = true;
  if (!o.layer_max_grad_norms.empty() && !o.per_layer) {
    reader.reject("layer_max_grad_norms",
                  "no value unless per_layer is true (flat variants have one threshold)");
  }
  return o;
}

void echo_layer_thresholds(const LayerThresholdOptions& options, bool per_layer_is_key,
                           nlohmann::json& echo) {
  if (per_layer_is_key) echo["per_layer"] = options.per_layer;
  if (!options.layer_max_grad_norms.empty()) {
    echo["layer_max_grad_norms"] = options.layer_max_grad_norms;
  }
}

std::unique_ptr<Clipper> make_norm_clipper(double max_grad_norm,
                                           const LayerThresholdOptions& options,
                                           const PrivateModel& model) {
  if (!options.per_layer) return std::make_unique<FlatClipper>(max_grad_norm);
  auto groups = NormGroups::per_layer(model);
  auto thresholds = group_thresholds(max_grad_norm, options.layer_max_grad_norms, groups.size());
  return std::make_unique<PerLayerClipper>(std::move(groups), std::move(thresholds));
}

}  // namespace dpsgd::privacy
