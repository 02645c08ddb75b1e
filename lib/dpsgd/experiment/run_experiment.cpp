#include "dpsgd/experiment/run_experiment.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/accounting/calibration.hpp"
#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/experiment/dp_gradient_builder.hpp"
#include "dpsgd/experiment/run_id.hpp"
#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/train/optimizer_registry.hpp"
#include "dpsgd/train/trainer.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/build_info.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/host_allocator.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/machine.hpp"
#include "dpsgd/util/memory.hpp"
#include "dpsgd/util/seeds.hpp"
#include "dpsgd/util/stopwatch.hpp"
#include "dpsgd/util/version.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

constexpr int kSummarySchemaVersion = 1;

std::string now_iso8601() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

struct LoadedData {
  data::TensorDataset train;
  data::TensorDataset val;  ///< empty when the data set has no validation split
  data::TensorDataset test;
};

LoadedData load_data(const config::ExperimentConfig& c, const torch::Device& device) {
  const auto& factory = data::dataset_registry().get(c.data.name);
  data::DatasetOptions options{c.data.root, c.data.segmentation, c.model.options.num_classes};
  LoadedData out{factory(options, data::DatasetSplit::kTrain),
                 factory(options, data::DatasetSplit::kVal),
                 factory(options, data::DatasetSplit::kTest)};
  if (c.data.train_size > 0) out.train = out.train.subset(c.data.train_size);
  if (c.data.val_size > 0 && out.val.size() > 0) out.val = out.val.subset(c.data.val_size);
  if (c.data.test_size > 0) out.test = out.test.subset(c.data.test_size);
  if (c.train.batch_size > out.train.size()) {
    throw util::UserError(util::cat(c.source.string(), ": train.batch_size: '", c.train.batch_size,
                                    "' is invalid: larger than the training set (",
                                    out.train.size(), " examples), so q = batch/N would exceed 1"));
  }
  for (const auto* split : {&out.val, &out.test}) {
    if (split->size() > 0 && split->inputs.sizes().slice(1) != out.train.inputs.sizes().slice(1)) {
      throw util::UserError(util::cat(
          c.source.string(), ": data '", c.data.name, "': the splits differ in input shape (train ",
          out.train.inputs.sizes().slice(1), ", other ", split->inputs.sizes().slice(1),
          "); give them the same channels, or set data.image_size"));
    }
  }
  // Whole data set on the device: batches are gathered there without host copies.
  for (auto* split : {&out.train, &out.val, &out.test}) {
    if (split->size() == 0) continue;
    split->inputs = split->inputs.to(device);
    split->targets = split->targets.to(device);
  }
  return out;
}

struct RunPlan {
  std::string id;
  double sigma = 0.0;
  std::optional<double> target_epsilon;
};

// One plan per noise multiplier, or per target epsilon with sigma calibrated for
// exactly the steps and sampling rate this run will use.
std::vector<RunPlan> plan_runs(const config::ExperimentConfig& c, std::int64_t train_size) {
  std::vector<RunPlan> plans;
  if (!c.privacy.target_epsilons.empty()) {
    const double q = data::poisson_sample_rate(c.train.batch_size, train_size);
    std::int64_t steps = 0;
    try {
      steps = train::total_steps(train_size, c.train.batch_size, c.train.epochs);
    } catch (const std::overflow_error& e) {
      throw util::UserError(util::cat(c.source.string(), ": train.epochs: '", c.train.epochs,
                                      "' is invalid: ", e.what(), "; use fewer epochs"));
    }
    const auto ids = make_run_ids("eps", c.privacy.target_epsilons,
                                  c.source.string() + ": privacy.target_epsilon");
    const auto& factory = accounting::accountant_registry().get(c.privacy.accountant);
    const auto options = c.privacy.accountant_options;
    const accounting::AccountantMaker make = [&] { return factory(options); };
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const double target = c.privacy.target_epsilons[i];
      double sigma = 0;
      try {
        sigma = accounting::calibrate_sigma(make, target, q, steps, c.privacy.delta);
      } catch (const std::invalid_argument& e) {
        throw util::UserError(util::cat(c.source.string(), ": privacy.target_epsilon: '", target,
                                        "' cannot be reached: ", e.what()));
      }
      util::log::info(util::cat("target epsilon ", target, ": noise multiplier ", sigma, " (q ", q,
                                ", ", steps, " steps, delta ", c.privacy.delta, ", ",
                                c.privacy.accountant, ")"));
      plans.push_back({ids[i], sigma, target});
    }
    return plans;
  }
  if (!c.privacy.enabled) return {{make_run_id(false, 0.0), 0.0, std::nullopt}};
  const auto ids = make_run_ids("sigma", c.privacy.noise_multipliers,
                                c.source.string() + ": privacy.noise_multiplier");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    plans.push_back({ids[i], c.privacy.noise_multipliers[i], std::nullopt});
  }
  return plans;
}

train::TrainParts build_parts(const config::ExperimentConfig& c, const LoadedData& data,
                              double sigma, const torch::Device& device) {
  torch::manual_seed(util::stream_seed(c.seed, util::SeedStream::kModelInit));
  train::TrainParts parts;
  parts.model = models::model_registry().get(c.model.name)(model_options_for(c, data.train));
  parts.model->to(device);
  parts.objective = build_objective(c, data.train, data.val, data.test);
  parts.train = data.train;
  parts.val = data.val;
  parts.test = data.test;
  parts.optimizer =
      train::optimizer_registry().get(c.optimizer)(parts.model->parameters(), c.optimizer_options);
  parts.base_lr = c.optimizer_options.lr;
  parts.lr_schedule = train::lr_schedule_registry().get(c.lr_schedule)(c.lr_schedule_options);
  if (c.privacy.enabled) {
    parts.dp = build_dp_gradient(c, *parts.model, parts.objective,
                                 {c.privacy.engine, sigma, data.train.size()}, device);
  }
  return parts;
}

// The privacy header of a summary: mechanism, sensitivity, neighbouring relation
// and sampling assumption, as the private step ran them.
json privacy_summary(const config::ExperimentConfig& c, const RunPlan& plan,
                     const privacy::DpGradient& dp) {
  return {
      {"mechanism", "Poisson-subsampled Gaussian (DP-SGD, Abadi et al. 2016)"},
      {"noise_multiplier", dp.noise_multiplier()},
      {"sample_rate", dp.sample_rate()},
      {"sampling", "poisson"},
      {"neighbouring_relation", "add/remove one example"},
      {"accountant", c.privacy.accountant},
      {"rdp_conversion",
       c.privacy.accountant_options.rdp_conversion == accounting::RdpConversion::kClassic
           ? "classic (Mironov 2017)"
           : "improved (Balle et al. 2020)"},
      {"clipping", c.privacy.clipping.mode},
      {"max_grad_norm", c.privacy.clipping.max_grad_norm},
      {"sensitivity", dp.clipper().sensitivity()},
      {"microbatches", c.privacy.microbatches},
      {"noise_source", c.privacy.secure_noise
                           ? "secure (OS CSPRNG via getrandom; not bit-reproducible; Poisson "
                             "sampling still uses the seeded generator)"
                           : "seeded generator (reproducible; not for releasing models)"},
      {"engine", dp.engine_name()},
      {"noise_std", dp.noise_std()},
      {"target_epsilon", plan.target_epsilon ? json(*plan.target_epsilon) : json(nullptr)},
  };
}

struct RunRecord {
  const config::ExperimentConfig& config;
  const RunPlan& plan;
  const LoadedData& data;
  json resolved;  ///< the resolved config of the run
  std::string started;
};

json run_summary(const RunRecord& r, const train::TrainParts& parts,
                 const train::TrainResult& result, const torch::Device& device) {
  const auto& c = r.config;
  const bool is_private = parts.dp != nullptr;
  json summary = {
      {"schema_version", kSummarySchemaVersion},
      {"run_id", r.plan.id},
      {"status", "completed"},
      {"private", is_private},
      {"final_test", result.final_test},
      {"epsilon", is_private ? json(result.epsilon) : json(nullptr)},
      {"delta", is_private ? json(c.privacy.delta) : json(nullptr)},
      {"steps", result.steps},
      {"epochs", c.train.epochs},
      {"train_examples", r.data.train.size()},
      {"val_examples", r.data.val.size()},
      {"test_examples", r.data.test.size()},
      {"loss_function", resolved_loss_name(c, r.data.train)},
      {"variant", c.variant.empty() ? json(nullptr) : json(c.variant)},
      {"total_time_s", result.total_time_s},
      {"phase_times_s", result.phase_times_s},
      {"peak_memory_bytes", util::peak_memory_bytes(device)},
      {"peak_memory_source", device.is_cuda() ? "cuda_allocator" : "resident_set"},
      {"config", r.resolved},
      {"seed", c.seed},
      {"device", device.str()},
      {"machine", util::machine_description(device)},
      {"libtorch_version", util::libtorch_version()},
      {"dpsgd_version", util::kVersion},
      {"git_commit", util::kGitCommit},
      {"started_at", r.started},
      {"finished_at", now_iso8601()},
  };
  if (is_private) summary["privacy"] = privacy_summary(c, r.plan, *parts.dp);
  return summary;
}

json run_one(const config::ExperimentConfig& c, const RunPlan& plan, const LoadedData& data,
             const torch::Device& device, const std::filesystem::path& run_dir) {
  RunRecord record{c, plan, data, config::run_config_json(c, plan.sigma), now_iso8601()};
  util::write_file_atomically(run_dir / "config.yaml", config::json_to_yaml(record.resolved));
  util::reset_peak_memory(device);
  auto parts = build_parts(c, data, plan.sigma, device);
  train::TrainOptions options = c.train;
  options.delta = c.privacy.delta;
  train::MetricsLog log(run_dir / "metrics.json", c.train.flush_every_s);
  log.maybe_flush(/*force=*/true);
  const auto result = train::run_training(parts, options, log, plan.id, device);
  auto summary = run_summary(record, parts, result, device);
  util::write_file_atomically(run_dir / "summary.json", summary.dump(2));
  return summary;
}

}  // namespace

torch::Device resolve_device(config::DeviceChoice choice) {
  switch (choice) {
    case config::DeviceChoice::kCpu:
      return torch::kCPU;
    case config::DeviceChoice::kCuda:
      if (!torch::cuda::is_available()) {
        throw util::UserError("device 'cuda' was asked for, but LibTorch sees no CUDA device");
      }
      return {torch::kCUDA, 0};
    case config::DeviceChoice::kAuto:
      break;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

namespace {

struct Planned {
  const config::ExperimentConfig* config;
  RunPlan plan;
  std::size_t data;  ///< index into Experiment::loaded
};

struct Experiment {
  std::vector<config::ExperimentConfig> configs;
  std::vector<LoadedData> loaded;
  std::vector<Planned> planned;
};

// Data is loaded once per distinct data section (variants usually share it),
// then plans are made; a bad value anywhere stops here, before any training.
void load_and_plan(Experiment& x, const torch::Device& device) {
  std::vector<json> loaded_keys;  // the resolved data section of each loaded set
  x.loaded.reserve(x.configs.size());
  for (const auto& c : x.configs) {
    util::Stopwatch load_clock;
    const json key = config::run_config_json(c, 0.0)["data"];
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

json index_row(const Planned& p) {
  const auto& c = *p.config;
  json row = {{"run_id", p.plan.id},
              {"directory", c.variant.empty() ? p.plan.id : c.variant + "/" + p.plan.id},
              {"noise_multiplier", c.privacy.enabled ? json(p.plan.sigma) : json(nullptr)},
              {"status", "pending"}};
  if (!c.variant.empty()) row["variant"] = c.variant;
  if (p.plan.target_epsilon) row["target_epsilon"] = *p.plan.target_epsilon;
  return row;
}

// Runs of earlier calls into the same folder that this call does not redo
// (e.g. other variants, run one --variant at a time) keep their rows, first.
void keep_earlier_rows(json& index, const std::filesystem::path& out_dir) {
  std::set<std::string> planned_dirs;
  for (const auto& row : index["runs"]) planned_dirs.insert(row["directory"].get<std::string>());
  std::ifstream in(out_dir / "index.json");
  const auto old = in ? json::parse(in, nullptr, /*allow_exceptions=*/false) : json();
  if (!old.is_object() || !old.contains("runs") || !old["runs"].is_array()) return;
  json kept = json::array();
  for (const auto& row : old["runs"]) {
    const auto dir = row.value("directory", row.value("run_id", std::string()));
    if (!dir.empty() && planned_dirs.count(dir) == 0) kept.push_back(row);
  }
  for (auto& row : index["runs"]) kept.push_back(row);
  index["runs"] = kept;
}

// Runs one planned run and records its outcome in `row`; returns false if it failed.
bool execute(const Experiment& x, const Planned& p, json& row, const torch::Device& device,
             const std::filesystem::path& out_dir) {
  const auto& c = *p.config;
  const std::string label = row["directory"];
  try {
    const auto run_dir = out_dir / label;
    std::filesystem::create_directories(run_dir);
    const auto summary = run_one(c, p.plan, x.loaded[p.data], device, run_dir);
    row["status"] = "completed";
    row["final_test"] = summary["final_test"];
    row["epsilon"] = summary["epsilon"];
    row["total_time_s"] = summary["total_time_s"];
    util::log::info(util::cat(
        "run ", label, " completed: test ", summary["final_test"].dump(),
        c.privacy.enabled ? util::cat(", epsilon ", summary["epsilon"].dump()) : std::string()));
    return true;
  } catch (const c10::Error& e) {
    row["error"] = e.what_without_backtrace();
  } catch (const std::exception& e) {
    row["error"] = e.what();
  }
  row["status"] = "failed";
  util::log::error(util::cat("run ", label, " failed: ", row["error"].get<std::string>()));
  return false;
}

}  // namespace

int run_experiment(const ExperimentRequest& request) {
  util::tune_host_allocator();
  Experiment x;
  // Every variant is parsed (and so checked) before the first run starts.
  x.configs =
      config::load_experiment_variants(request.config_path, request.overrides, request.variants);
  const auto& first = x.configs.front();
  const auto device = resolve_device(request.device.value_or(first.device));
  const std::filesystem::path out_dir =
      request.out_dir.value_or(std::filesystem::path("results") / first.name);
  std::filesystem::create_directories(out_dir);
  load_and_plan(x, device);
  util::log::info(util::cat(
      "experiment '", first.name, "': ", x.planned.size(), " run(s)",
      x.configs.size() > 1 ? util::cat(" in ", x.configs.size(), " variants") : std::string(),
      " on ", device.str(), ", output in ", out_dir.string()));
  json index = {{"schema_version", kSummarySchemaVersion},
                {"experiment", first.name},
                {"config", std::filesystem::absolute(first.source).string()},
                {"runs", json::array()}};
  for (const auto& p : x.planned) index["runs"].push_back(index_row(p));
  keep_earlier_rows(index, out_dir);
  const std::size_t first_new = index["runs"].size() - x.planned.size();
  const auto write_index = [&] {
    util::write_file_atomically(out_dir / "index.json", index.dump(2));
  };
  write_index();
  int failures = 0;
  for (std::size_t r = 0; r < x.planned.size(); ++r) {
    auto& row = index["runs"][first_new + r];
    row["status"] = "running";
    write_index();
    if (!execute(x, x.planned[r], row, device, out_dir)) ++failures;
    write_index();
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace dpsgd::experiment
