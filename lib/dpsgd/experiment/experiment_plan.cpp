#include "dpsgd/experiment/experiment_plan.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/accounting/accounting_error.hpp"
#include "dpsgd/accounting/budget.hpp"
#include "dpsgd/accounting/calibration.hpp"
#include "dpsgd/accounting/pipeline.hpp"
#include "dpsgd/config/config_json.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/experiment/head_pipeline.hpp"
#include "dpsgd/experiment/run_id.hpp"
#include "dpsgd/train/trainer.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

void check_splits(const config::ExperimentConfig& c, const LoadedData& out) {
  if (c.train.batch_size > out.train.size()) {
    throw util::UserError(util::cat(c.source.string(), ": train.batch_size: '", c.train.batch_size,
                                    "' is invalid: larger than the training set (",
                                    out.train.size(), " examples), so q = batch/N would exceed 1"));
  }
  const auto p = c.train.augment_crop_padding;
  if (p > 0 && (out.train.inputs.dim() != 4 || p >= out.train.inputs.size(2) ||
                p >= out.train.inputs.size(3))) {
    throw util::UserError(util::cat(c.source.string(), ": data.augment.crop_padding: '", p,
                                    "' is invalid for inputs of shape ",
                                    out.train.inputs.sizes().slice(1),
                                    ": reflection padding needs images (C x H x W) with a "
                                    "padding below H and W; use a smaller value"));
  }
  for (const auto* split : {&out.val, &out.test}) {
    if (split->size() > 0 && split->inputs.sizes().slice(1) != out.train.inputs.sizes().slice(1)) {
      throw util::UserError(util::cat(
          c.source.string(), ": data '", c.data.name, "': the splits differ in input shape (train ",
          out.train.inputs.sizes().slice(1), ", other ", split->inputs.sizes().slice(1),
          "); give them the same channels, or set data.image_size"));
    }
  }
}

// The filter bank's largest Gaussian reaches 3 s pixels each way; at or past the
// image's side every channel of that scale is nearly constant (border padding),
// which is a mistake in model.scales or data.image_size, not a model.
void check_filter_bank(const config::ExperimentConfig& c, const LoadedData& out) {
  if (c.model.name != "filter_bank_head") return;
  const auto& x = out.train.inputs;
  double largest = 0.0;
  for (const double s : c.model.options.scales) largest = std::max(largest, s);
  const auto radius = static_cast<std::int64_t>(std::ceil(3.0 * largest));
  if (x.dim() != 4 || radius >= std::min(x.size(2), x.size(3))) {
    throw util::UserError(util::cat(
        c.source.string(), ": model.scales: largest scale '", largest,
        "' is invalid for inputs of shape ", x.sizes().slice(1),
        ": filter_bank_head needs images (C x H x W) with 3 x scale below H and W; use smaller "
        "scales or a larger data.image_size"));
  }
}

accounting::AccountantMaker accountant_maker(const config::ExperimentConfig& c) {
  const auto& factory = accounting::accountant_registry().get(c.privacy.accountant);
  const auto options = c.privacy.accountant_options;
  return [&factory, options] { return factory(options); };
}

// An accountant that cannot answer for the whole run (PRV past its range) would
// fail the run midway: refuse before training instead.
void check_accountant_answers(const config::ExperimentConfig& c, double sigma, double q,
                              std::int64_t steps) {
  try {
    (void)accounting::epsilon_for(accountant_maker(c), sigma, q, steps, c.privacy.delta);
  } catch (const accounting::AccountingError& e) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.accountant: '",
                                    c.privacy.accountant, "' cannot answer for this run (sigma ",
                                    sigma, ", q ", q, ", ", steps, " steps): ", e.what(),
                                    "; use accountant: rdp, or set privacy.max_epsilon"));
  }
}

// privacy.max_epsilon: the steps that fit under the budget (accounting/budget.hpp);
// a budget that does not cover one step is bad input. Without a budget, the
// accountant must answer for every step of the run. GDP's epsilon is an
// approximation that can sit below the true one: no budget can rest on it.
std::optional<std::int64_t> budget_limit(const config::ExperimentConfig& c, double sigma, double q,
                                         std::int64_t steps) {
  if (!c.privacy.enabled) return std::nullopt;
  if (!c.privacy.max_epsilon) {
    check_accountant_answers(c, sigma, q, steps);
    return std::nullopt;
  }
  if (accounting::epsilon_for(accountant_maker(c), sigma, q, 1, c.privacy.delta).approximation) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.max_epsilon: accountant '",
                                    c.privacy.accountant,
                                    "' gives an approximation, not a bound; a budget needs rdp "
                                    "or prv"));
  }
  const double budget = *c.privacy.max_epsilon;
  const auto limit = accounting::steps_within_budget(accountant_maker(c), sigma, q, steps,
                                                     c.privacy.delta, budget);
  if (limit == 0) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.max_epsilon: '", budget,
                                    "' is below the epsilon of a single step at noise multiplier ",
                                    sigma, "; raise it or the noise multiplier"));
  }
  if (limit < steps) {
    util::log::info(util::cat("privacy.max_epsilon ", budget, ": sigma ", sigma, " stops after ",
                              limit, " of ", steps, " steps"));
    return limit;
  }
  return std::nullopt;
}

// The runs of a sweep over target epsilons (sigma from `calibrate`, which throws
// std::invalid_argument for an unreachable target) or over noise multipliers;
// `limit` checks a sigma and gives its budget step limit.
std::vector<RunPlan> plan_sweep(const config::ExperimentConfig& c,
                                const std::function<double(double)>& calibrate,
                                const std::function<std::optional<std::int64_t>(double)>& limit) {
  std::vector<RunPlan> plans;
  const auto eps_ids = make_run_ids("eps", c.privacy.target_epsilons,
                                    c.source.string() + ": privacy.target_epsilon");
  for (std::size_t i = 0; i < eps_ids.size(); ++i) {
    const double target = c.privacy.target_epsilons[i];
    double sigma = 0;
    try {
      sigma = calibrate(target);
    } catch (const std::invalid_argument& e) {
      throw util::UserError(util::cat(c.source.string(), ": privacy.target_epsilon: '", target,
                                      "' cannot be reached: ", e.what()));
    }
    plans.push_back({eps_ids[i], sigma, target, limit(sigma)});
  }
  if (!plans.empty()) return plans;
  if (!c.privacy.enabled) return {{make_run_id(false, 0.0), 0.0, std::nullopt, std::nullopt}};
  const auto ids = make_run_ids("sigma", c.privacy.noise_multipliers,
                                c.source.string() + ": privacy.noise_multiplier");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const double sigma = c.privacy.noise_multipliers[i];
    plans.push_back({ids[i], sigma, std::nullopt, limit(sigma)});
  }
  return plans;
}

// dp_ls and dp_fc: a fixed list of full-batch Gaussian mechanisms per overall
// sigma (head_pipeline.hpp); a target epsilon calibrates that sigma for the list.
std::vector<RunPlan> plan_head_runs(const config::ExperimentConfig& c) {
  const auto pipeline = [&c](double sigma) { return head_mechanisms(c.head, sigma); };
  const auto calibrate = [&](double target) {
    const double sigma =
        accounting::calibrate_pipeline(accountant_maker(c), target, c.privacy.delta, pipeline);
    util::log::info(util::cat("target epsilon ", target, ": overall noise multiplier ", sigma,
                              " for the head's mechanisms (delta ", c.privacy.delta, ", ",
                              c.privacy.accountant, ")"));
    return sigma;
  };
  const auto check = [&](double sigma) -> std::optional<std::int64_t> {
    try {
      (void)accounting::epsilon_of(accountant_maker(c), pipeline(sigma), c.privacy.delta);
    } catch (const accounting::AccountingError& e) {
      throw util::UserError(util::cat(c.source.string(), ": privacy.accountant: '",
                                      c.privacy.accountant, "' cannot answer for sigma ", sigma,
                                      ": ", e.what(), "; use accountant: rdp"));
    }
    return std::nullopt;
  };
  return plan_sweep(c, calibrate, check);
}

features::FeatureReport extract_features(const config::ExperimentConfig& c, LoadedData& out,
                                         const torch::Device& device) {
  try {
    return features::apply_features(
        c.features, {{"train", &out.train}, {"val", &out.val}, {"test", &out.test}}, device);
  } catch (const std::invalid_argument& e) {
    throw util::UserError(util::cat(c.source.string(), ": features.extractor: '",
                                    c.features.extractor, "' cannot run on data '", c.data.name,
                                    "': ", e.what()));
  } catch (const c10::Error& e) {
    throw util::UserError(util::cat(c.source.string(), ": features.extractor: '",
                                    c.features.extractor, "' failed on data '", c.data.name,
                                    "': ", e.what_without_backtrace()));
  } catch (const std::runtime_error& e) {
    throw util::UserError(util::cat(c.source.string(), ": features.extractor: '",
                                    c.features.extractor, "': ", e.what()));
  }
}

// data.val_from_train: the last N training examples (after train_size) become
// the validation split and leave training, so the epsilon covers the rest.
void hold_out_validation(const config::ExperimentConfig& c, LoadedData& out) {
  const std::int64_t n = c.data.val_from_train;
  if (n == 0) return;
  if (out.val.size() > 0) {
    throw util::UserError(util::cat(c.source.string(), ": data.val_from_train: ", n,
                                    " is invalid: data '", c.data.name,
                                    "' has its own validation split; remove the key"));
  }
  if (n >= out.train.size()) {
    throw util::UserError(util::cat(c.source.string(), ": data.val_from_train: ", n,
                                    " is invalid: it must be below the ", out.train.size(),
                                    " training examples"));
  }
  const auto keep = out.train.size() - n;
  out.val = data::TensorDataset{out.train.inputs.narrow(0, keep, n),
                                out.train.targets.narrow(0, keep, n), out.train.name + "/val"};
  out.train = out.train.subset(keep);
}

}  // namespace

LoadedData load_data(const config::ExperimentConfig& c, const torch::Device& device) {
  const auto& factory = data::dataset_registry().get(c.data.name);
  data::DatasetOptions options{c.data.root, c.data.segmentation, c.model.options.num_classes};
  LoadedData out{factory(options, data::DatasetSplit::kTrain),
                 factory(options, data::DatasetSplit::kVal),
                 factory(options, data::DatasetSplit::kTest)};
  if (c.data.train_size > 0) out.train = out.train.subset(c.data.train_size);
  hold_out_validation(c, out);
  if (c.data.val_size > 0 && out.val.size() > 0) out.val = out.val.subset(c.data.val_size);
  if (c.data.test_size > 0) out.test = out.test.subset(c.data.test_size);
  check_splits(c, out);
  check_filter_bank(c, out);
  // Whole data set on the device: batches are gathered there without host copies.
  for (auto* split : {&out.train, &out.val, &out.test}) {
    if (split->size() == 0) continue;
    split->inputs = split->inputs.to(device);
    split->targets = split->targets.to(device);
  }
  if (c.features.enabled()) out.features = extract_features(c, out, device);
  return out;
}

std::vector<RunPlan> plan_runs(const config::ExperimentConfig& c, std::int64_t train_size) {
  if (c.head.method != config::HeadMethod::kDpSgd) return plan_head_runs(c);
  const double q = data::poisson_sample_rate(c.train.batch_size, train_size);
  std::int64_t steps = 0;
  try {
    steps = train::total_steps(train_size, c.train.batch_size, c.train.epochs);
  } catch (const std::overflow_error& e) {
    throw util::UserError(util::cat(c.source.string(), ": train.epochs: '", c.train.epochs,
                                    "' is invalid: ", e.what(), "; use fewer epochs"));
  }
  const auto calibrate = [&](double target) {
    const double sigma =
        accounting::calibrate_sigma(accountant_maker(c), target, q, steps, c.privacy.delta);
    util::log::info(util::cat("target epsilon ", target, ": noise multiplier ", sigma, " (q ", q,
                              ", ", steps, " steps, delta ", c.privacy.delta, ", ",
                              c.privacy.accountant, ")"));
    return sigma;
  };
  return plan_sweep(c, calibrate, [&](double sigma) { return budget_limit(c, sigma, q, steps); });
}

std::string Planned::directory() const {
  return config->variant.empty() ? plan.id : config->variant + "/" + plan.id;
}

void load_and_plan(Experiment& x, const torch::Device& device) {
  std::vector<json> loaded_keys;  // the resolved data section of each loaded set
  x.loaded.reserve(x.configs.size());
  for (const auto& c : x.configs) {
    util::Stopwatch load_clock;
    // Labels are checked against num_classes while loading: part of the key.
    const auto echo = config::run_config_json(c, 0.0);
    const json key = {echo["data"], echo["features"], c.model.options.num_classes};
    const auto same = std::find(loaded_keys.begin(), loaded_keys.end(), key);
    const auto index = static_cast<std::size_t>(same - loaded_keys.begin());
    if (same == loaded_keys.end()) {
      x.loaded.push_back(load_data(c, device));
      loaded_keys.push_back(key);
    }
    const auto& data = x.loaded[index];
    util::log::info(util::cat("data '", c.data.name, "'",
                              c.variant.empty() ? std::string() : " (variant " + c.variant + ")",
                              ": ", data.train.size(), " train / ", data.val.size(), " val / ",
                              data.test.size(), " test examples (", load_clock.seconds(), " s)"));
    for (auto& plan : plan_runs(c, data.train.size())) {
      x.planned.push_back({&c, std::move(plan), index});
    }
  }
}

}  // namespace dpsgd::experiment
