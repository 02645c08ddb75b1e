#include "dpsgd/experiment/task_setup.hpp"

#include <algorithm>

#include "dpsgd/models/objectives/objective_registry.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::experiment {

models::ModelOptions model_options_for(const config::ExperimentConfig& c,
                                       const data::TensorDataset& train) {
  auto o = c.model.options;
  if (train.inputs.defined() && train.inputs.dim() == 4) {
    o.in_channels = train.inputs.size(1);
    o.image_size = train.inputs.size(2);
  }
  if (train.inputs.defined() && train.inputs.dim() >= 2) {
    o.in_features = train.inputs[0].numel();
  }
  return o;
}

namespace {

models::TargetKind target_kind(const data::TensorDataset& train) {
  return train.targets.defined() && train.targets.dim() >= 2 ? models::TargetKind::kPixelMasks
                                                             : models::TargetKind::kClassLabels;
}

}  // namespace

std::string resolved_loss_name(const config::ExperimentConfig& c,
                               const data::TensorDataset& train) {
  if (c.loss.name != models::kAutoLoss) return c.loss.name;
  return models::default_objective(target_kind(train));
}

std::shared_ptr<models::Objective> build_objective(const config::ExperimentConfig& c,
                                                   const data::TensorDataset& train,
                                                   const data::TensorDataset& val,
                                                   const data::TensorDataset& test) {
  const std::int64_t k = c.model.options.num_classes;
  for (const auto* split : {&train, &val, &test}) {
    if (split->size() == 0) continue;
    const auto lo = split->targets.min().item<std::int64_t>();
    const auto hi = split->targets.max().item<std::int64_t>();
    if (lo < 0 || hi >= k) {
      throw util::UserError(util::cat(
          c.source.string(), ": model.num_classes: '", k, "' is invalid: data '", c.data.name,
          "' has label ", lo < 0 ? lo : hi,
          " (labels must lie in [0, num_classes); for segmentation check data.label_map)"));
    }
  }
  const auto name = resolved_loss_name(c, train);
  const auto& entry = models::objective_registry().get(name);
  const auto kind = target_kind(train);
  if (std::find(entry.targets.begin(), entry.targets.end(), kind) == entry.targets.end()) {
    const bool masks = kind == models::TargetKind::kPixelMasks;
    throw util::UserError(
        c.source.string() + ": train.loss.name: '" + name + "' is invalid: it needs " +
        (masks ? "one class label per example" : "per-pixel targets") + ", and data '" +
        c.data.name + "' has " + (masks ? "per-pixel targets" : "one class label per example"));
  }
  auto options = c.loss.options;
  options.num_classes = k;
  return entry.make(options);
}

}  // namespace dpsgd::experiment
