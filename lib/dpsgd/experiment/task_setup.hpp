#pragma once
// What the loaded data implies for the model and the loss: the model's input
// channels and size come from the data, "auto" losses are resolved from the
// targets (class labels: cross_entropy; per-pixel masks: cross_entropy_dice),
// and every target label must be a class the model outputs.
#include <memory>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::experiment {

/// The config's model options with in_channels and image_size read off `train`.
models::ModelOptions model_options_for(const config::ExperimentConfig& c,
                                       const data::TensorDataset& train);

/// The loss registry key `auto` resolves to for these targets.
std::string resolved_loss_name(const config::ExperimentConfig& c, const data::TensorDataset& train);

/// The objective; throws util::UserError when a label in any split is not in
/// [0, model.num_classes) (naming the config file, the key and the label).
std::shared_ptr<models::Objective> build_objective(const config::ExperimentConfig& c,
                                                   const data::TensorDataset& train,
                                                   const data::TensorDataset& val,
                                                   const data::TensorDataset& test);

}  // namespace dpsgd::experiment
