#pragma once
// The typed form of an experiment YAML. YAML is read once, by config_loader and
// its section readers (clipping modes read their keys through util::OptionReader),
// into these structs; nothing below the experiment layer sees YAML or option
// strings other than registry keys that were validated here.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/data/segmentation_folder.hpp"
#include "dpsgd/features/feature_options.hpp"
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
  /// Data sets without a validation split: the last N training examples (after
  /// train_size) become it and leave training (for `tuning:`). 0 = off.
  std::int64_t val_from_train = 0;
  /// segmentation_folder and image_folder: size and normalisation; label mapping
  /// (segmentation_folder only).
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

/// How the private model is learnt (YAML `head.method`).
enum class HeadMethod {
  kDpSgd,  ///< DP-SGD on model: (on features, usually model.name: linear)
  kDpLs,   ///< least squares on noisy sufficient statistics (Mehta et al. 2023)
  kDpFc,   ///< DP gradient descent preconditioned by a noisy feature covariance (ibid.)
};

/// `head:`: the closed-form heads' settings (dp_ls, dp_fc); dp_sgd uses train: and
/// privacy: as any run. The overall noise multiplier (privacy.noise_multiplier, or
/// calibrated from privacy.target_epsilon) is split between the head's Gaussian
/// mechanisms by budget_share (accounting/pipeline.hpp).
struct HeadConfig {
  HeadMethod method = HeadMethod::kDpSgd;
  double clip_norm = 1.0;  ///< every feature vector (with its bias entry) clipped to this norm
  double ridge = 1.0;      ///< lambda, in the units of the clipped features' Gram matrix
  std::optional<double> class_weight_alpha;  ///< dp_ls: Mehta et al.'s class weighting
  /// dp_ls: the Gram matrix's share of the budget (the class sums get the rest);
  /// dp_fc: the covariance's share (the gradient steps share the rest).
  double budget_share = 0.5;
  std::int64_t steps = 10;          ///< dp_fc: full-batch steps
  double lr = 1.0;                  ///< dp_fc: step size
  double gradient_clip_norm = 1.0;  ///< dp_fc: per-example gradient norm bound
  bool fit_bias = true;
};

/// `tuning.trials`: how many trials a tuning run makes (Papernot and Steinke 2022).
enum class TrialCount {
  kEvery,                      ///< every sweep point once: a fixed count, full composition
  kPoisson,                    ///< K ~ Poisson(mean), each trial a uniformly drawn point
  kTruncatedNegativeBinomial,  ///< K ~ D_{eta,gamma}, each trial a uniformly drawn point
};

/// `tuning:`: releasing only the best run of a sweep, and what that costs.
struct TuningConfig {
  bool enabled = false;
  std::string metric;    ///< validation metric (the objective's score, or loss)
  bool maximise = true;  ///< select the largest metric (false: the smallest)
  TrialCount trials = TrialCount::kEvery;
  double mean = 0.0;   ///< kPoisson: E[K]
  double eta = 1.0;    ///< kTruncatedNegativeBinomial: eta > -1 (1 = geometric, 0 = logarithmic)
  double gamma = 0.1;  ///< kTruncatedNegativeBinomial: gamma in (0, 1)
  /// The number of trials drawn (random counts) or the number of sweep points.
  std::int64_t drawn_trials = 0;
};

struct ExperimentConfig {
  std::filesystem::path source;  ///< the YAML file, for error messages
  std::string name;
  /// Name of this variant of a multi-variant file (`variants:`); empty otherwise.
  /// Its runs go to OUT/<variant>/<run-id>.
  std::string variant;
  /// A `sweep:` point: its settings (dotted key, value as YAML text) in the
  /// sweep's key order; empty outside a sweep.
  std::vector<std::pair<std::string, std::string>> sweep_point;
  TuningConfig tuning;
  std::uint64_t seed = 0;
  DeviceChoice device = DeviceChoice::kAuto;
  DataConfig data;
  features::FeatureOptions features;
  ModelConfig model;
  HeadConfig head;
  train::TrainOptions train;  ///< delta and seed copied from privacy and the top level
  LossConfig loss;
  std::string optimizer = "sgd";  ///< optimizer registry key
  train::OptimizerOptions optimizer_options;
  std::string lr_schedule = "constant";  ///< lr schedule registry key
  train::LrScheduleOptions lr_schedule_options;
  PrivacyConfig privacy;
};

}  // namespace dpsgd::config
