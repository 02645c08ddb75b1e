#pragma once
// The typed form of an experiment YAML. YAML is read once, by config_loader and
// its section readers (clipping modes read their keys through util::OptionReader),
// into these structs; nothing below the experiment layer sees YAML or option
// strings other than registry keys that were validated here.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/data/segmentation_folder.hpp"
#include "dpsgd/models/objectives/objective_registry.hpp"
#include "dpsgd/models/zoo/model_options.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/train/lr_schedule.hpp"
#include "dpsgd/train/optimizer_registry.hpp"
#include "dpsgd/train/train_options.hpp"

namespace dpsgd::config {

enum class DeviceChoice { kAuto, kCpu, kCuda };

struct DataConfig {
  std::string name = "fashion_mnist";  ///< dataset registry key
  std::string root;                    ///< empty: the dataset's default location
  std::int64_t train_size = 0;         ///< use the first N training examples; 0 = all
  std::int64_t test_size = 0;          ///< use the first N test examples; 0 = all
  std::int64_t val_size = 0;           ///< use the first N validation examples; 0 = all
  /// segmentation_folder only: size, normalisation and label mapping.
  data::SegmentationFolderOptions segmentation;
};

struct ModelConfig {
  std::string name = "tanh_cnn";  ///< model registry key
  models::ModelOptions options;
};

struct LossConfig {
  std::string name = "auto";  ///< loss registry key; auto: chosen from the data's targets
  models::ObjectiveOptions options;
};

struct PrivacyConfig {
  bool enabled = true;
  /// Engine registry key as given (auto included); checked against the clipping
  /// mode and microbatches by privacy::choose_engine when the file is read.
  std::string engine = "auto";
  /// The clipping mode's options; its `make` builds the clipper for the model.
  privacy::ClippingSpec clipping = privacy::make_clipping_spec("flat");
  std::vector<double> noise_multipliers;  ///< more than one: a sweep
  /// Alternative to noise_multipliers: each run calibrates sigma to reach this
  /// epsilon at `delta` after all its steps (more than one: a sweep).
  std::vector<double> target_epsilons;
  double delta = 1e-5;
  std::string accountant = "rdp";  ///< accountant registry key
  accounting::AccountantOptions accountant_options;
  std::int64_t microbatches = 0;  ///< TF-Privacy-style microbatches; 0 = off
  /// Every privacy-relevant draw (Poisson sampling, gradient noise, masks,
  /// microbatch assignment, adaptive count noise) from the OS CSPRNG: not
  /// reproducible; the setting for models that will be released.
  bool secure_rng = false;
  /// privacy.max_epsilon: training stops before the step that would pass it
  /// (status budget_exhausted); nullopt: no budget guard.
  std::optional<double> max_epsilon;
};

struct ExperimentConfig {
  std::filesystem::path source;  ///< the YAML file, for error messages
  std::string name;
  /// Name of this variant of a multi-variant file (`variants:`); empty otherwise.
  /// Its runs go to OUT/<variant>/<run-id>.
  std::string variant;
  std::uint64_t seed = 0;
  DeviceChoice device = DeviceChoice::kAuto;
  DataConfig data;
  ModelConfig model;
  train::TrainOptions train;  ///< delta and seed copied from privacy and the top level
  LossConfig loss;
  std::string optimizer = "sgd";  ///< optimizer registry key
  train::OptimizerOptions optimizer_options;
  std::string lr_schedule = "constant";  ///< lr schedule registry key
  train::LrScheduleOptions lr_schedule_options;
  PrivacyConfig privacy;
};

}  // namespace dpsgd::config
