#pragma once
// One reader per top-level section of an experiment YAML. Each fills its part of
// the ExperimentConfig from the section, strictly (yaml_section.hpp); the loader
// calls them in file order and then checks the rules that span sections.
#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/config/yaml_section.hpp"

namespace dpsgd::config {

/// data: the data set, its sizes, the segmentation keys and augmentation.
void read_data_section(Section& top, ExperimentConfig& c);
/// features: the fixed feature extractor, its normalisation and cache.
void read_features_section(Section& top, ExperimentConfig& c);
/// head: how the private model is learnt (dp_sgd, dp_ls, dp_fc) and its settings.
void read_head_section(Section& top, ExperimentConfig& c);
/// model: the model and its options.
void read_model_section(Section& top, ExperimentConfig& c);
/// train: epochs, batches, sampling, the loss and the optimizer with its schedule.
void read_train_section(Section& top, ExperimentConfig& c);
/// privacy: engine, clipping, noise or target epsilon, accountant.
void read_privacy_section(Section& top, ExperimentConfig& c);

}  // namespace dpsgd::config
