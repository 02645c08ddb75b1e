#include "dpsgd/experiment/bench.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/data/augment/example_views.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/experiment/dp_gradient_builder.hpp"
#include "dpsgd/experiment/run_experiment.hpp"
#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/privacy/per_example/engine_choice.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/train/nonprivate_gradient.hpp"
#include "dpsgd/train/optimizer_registry.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/host_allocator.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/machine.hpp"
#include "dpsgd/util/memory.hpp"
#include "dpsgd/util/seeds.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Exclusive phase times: a nested phase pauses its parent.
class SyncPhaseClock final : public util::PhaseClock {
 public:
  explicit SyncPhaseClock(torch::Device device) : device_(device) {}
  void begin(const char* phase) override {
    synchronize(device_);
    charge();
    stack_.push_back(phase);
  }
  void end() override {
    synchronize(device_);
    charge();
    stack_.pop_back();
  }
  void reset() {
    totals_.clear();
    clock_.reset();
  }
  [[nodiscard]] const std::map<std::string, double>& totals() const { return totals_; }

 private:
  void charge() {
    if (!stack_.empty()) totals_[stack_.back()] += clock_.seconds();
    clock_.reset();
  }
  torch::Device device_;
  std::vector<std::string> stack_;
  std::map<std::string, double> totals_;
  util::Stopwatch clock_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n == 0 ? 0.0 : (n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

struct Batches {
  std::vector<torch::Tensor> x;
  std::vector<torch::Tensor> y;
};

// One engine's (or the non-private baseline's) model, optimizer and timers.
class EngineRun {
 public:
  EngineRun(const config::ExperimentConfig& c, std::string engine, const data::TensorDataset& train,
            const torch::Device& device)
      : c_(c), name_(std::move(engine)), device_(device), clock_(device) {
    const std::int64_t train_size = train.size();
    torch::manual_seed(util::stream_seed(c.seed, util::SeedStream::kModelInit));
    model_ = models::model_registry().get(c.model.name)(model_options_for(c, train));
    model_->to(device);
    objective_ = build_objective(c, train, data::TensorDataset{}, data::TensorDataset{});
    optimizer_ =
        train::optimizer_registry().get(c.optimizer)(model_->parameters(), c.optimizer_options);
    if (name_ != "nonprivate") {
      dp_ = build_dp_gradient(c, *model_, objective_,
                              {name_, c.privacy.noise_multipliers.front(), train_size}, device);
      if (c.train.augment_multiplicity > 1) {
        dp_->set_view_maker(
            [this](const torch::Tensor& x, const torch::Tensor& y, std::int64_t /*first*/) {
              return data::make_views(x, y, view_options(), view_rng_);
            });
      }
    }
    torch::NoGradGuard no_grad;
    for (const auto& p : model_->parameters()) initial_parameters_.push_back(p.detach().clone());
  }

  /// One step; returns its wall time (device-synchronised).
  double step(const torch::Tensor& x, const torch::Tensor& y) {
    synchronize(device_);
    util::Stopwatch step_clock;
    if (dp_) {
      dp_->compute(x, y, &clock_);
    } else {
      optimizer_->zero_grad();
      nonprivate_step(x, y);
    }
    {
      util::PhaseScope scope(&clock_, "optimizer");
      optimizer_->step();
    }
    synchronize(device_);
    const double seconds = step_clock.seconds();
    restore_parameters();
    return seconds;
  }

  EngineRun(const EngineRun&) = delete;
  EngineRun& operator=(const EngineRun&) = delete;
  EngineRun(EngineRun&&) = delete;
  EngineRun& operator=(EngineRun&&) = delete;
  ~EngineRun() = default;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::int64_t parameter_count() const {
    std::int64_t n = 0;
    for (const auto& p : initial_parameters_) n += p.numel();
    return n;
  }
  SyncPhaseClock& clock() { return clock_; }
  std::vector<double>& times() { return times_; }
  double peak_memory = 0.0;

 private:
  // Every timed step starts from the same (initial) weights in every engine,
  // so all engines time the same arithmetic. Without this the models drift
  // apart, and kernel speed depends on the values: measured on the tanh CNN,
  // max_pool2d took 17 ms in a model whose tanh units had saturated and 27 ms
  // at initialisation (its branch pattern), a gap that looked like engine cost.
  [[nodiscard]] data::ViewOptions view_options() const {
    return {c_.train.augment_multiplicity, c_.train.augment_crop_padding, c_.train.augment_hflip};
  }

  // The same views the private engines see (K per example, made whole here:
  // the chunks of the plain gradient are K times the physical batch in rows).
  void nonprivate_step(const torch::Tensor& x, const torch::Tensor& y) {
    const std::int64_t k = c_.train.augment_multiplicity;
    if (k == 1) {
      train::nonprivate_gradient(*model_, *objective_, x, y, c_.train.physical_batch_size, &clock_,
                                 c_.train.precision);
      return;
    }
    const auto [xv, yv] = data::make_views(x, y, view_options(), view_rng_);
    train::nonprivate_gradient(*model_, *objective_, xv, yv, c_.train.physical_batch_size * k,
                               &clock_, c_.train.precision);
  }

  void restore_parameters() {
    torch::NoGradGuard no_grad;
    const auto params = model_->parameters();
    for (std::size_t k = 0; k < params.size(); ++k) params[k].copy_(initial_parameters_[k]);
  }

  const config::ExperimentConfig& c_;
  std::string name_;
  at::Generator view_rng_ = at::make_generator<at::CPUGeneratorImpl>(
      util::stream_seed(c_.seed, util::SeedStream::kAugmentation));
  torch::Device device_;
  SyncPhaseClock clock_;
  models::ModelPtr model_;
  std::shared_ptr<models::Objective> objective_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<privacy::DpGradient> dp_;
  std::vector<double> times_;
  std::vector<torch::Tensor> initial_parameters_;
};

json summarise(EngineRun& run, std::int64_t steps) {
  json phases = json::object();
  for (const auto& [name, seconds] : run.clock().totals()) {
    phases[name] = seconds / static_cast<double>(steps);
  }
  const auto& t = run.times();
  return {{"median_step_s", median(t)},
          {"mean_step_s", std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(t.size())},
          {"phases", phases},
          {"peak_memory_bytes", run.peak_memory}};
}

}  // namespace

namespace {

config::ExperimentConfig bench_config(const BenchRequest& request) {
  auto variants = config::load_experiment_variants(request.config_path, request.overrides,
                                                   request.variant.empty()
                                                       ? std::vector<std::string>{}
                                                       : std::vector<std::string>{request.variant});
  if (variants.size() != 1) {
    std::string names;
    for (const auto& v : variants) names += (names.empty() ? "" : ", ") + v.variant;
    throw util::UserError(request.config_path.string() +
                          ": defines variants; bench one with --variant NAME (" + names + ")");
  }
  auto c = variants.front();
  if (c.privacy.noise_multipliers.empty() || !c.privacy.enabled) {
    c.privacy.noise_multipliers = {1.0};
  }
  return c;
}

// The requested engines, or every engine but the loop (the slow oracle) that
// can run the config's clipping method, by the one compatibility rule.
std::vector<std::string> bench_engines(const BenchRequest& request,
                                       const config::ExperimentConfig& c) {
  if (!request.engines.empty()) {
    for (const auto& e : request.engines) {
      try {
        (void)privacy::choose_engine(e, c.privacy.clipping.needs, c.privacy.microbatches);
      } catch (const std::invalid_argument& error) {
        throw util::UserError(util::cat("--engines: '", e, "': ", error.what()));
      }
    }
    return request.engines;
  }
  std::vector<std::string> engines;
  for (const auto& e :
       privacy::compatible_engines(c.privacy.clipping.needs, c.privacy.microbatches)) {
    if (!privacy::engine_registry().get(e).traits.oracle) engines.push_back(e);
  }
  return engines;
}

// A few distinct fixed-size batches, identical for every engine.
Batches bench_batches(const config::ExperimentConfig& c, const data::TensorDataset& train,
                      const torch::Device& device) {
  Batches batches;
  auto generator =
      at::detail::createCPUGenerator(util::stream_seed(c.seed, util::SeedStream::kBenchBatches));
  for (int b = 0; b < 4; ++b) {
    const auto idx =
        torch::randperm(train.size(), generator, torch::kInt64).narrow(0, 0, c.train.batch_size);
    batches.x.push_back(train.inputs.index_select(0, idx).to(device));
    batches.y.push_back(train.targets.index_select(0, idx).to(device));
  }
  return batches;
}

data::TensorDataset bench_train_set(const config::ExperimentConfig& c) {
  const auto& factory = data::dataset_registry().get(c.data.name);
  data::DatasetOptions data_options{c.data.root, c.data.segmentation, c.model.options.num_classes};
  auto train = factory(data_options, data::DatasetSplit::kTrain);
  if (c.data.train_size > 0) train = train.subset(c.data.train_size);
  if (c.train.batch_size > train.size()) {
    throw util::UserError(util::cat(c.source.string(), ": train.batch_size: '", c.train.batch_size,
                                    "' is larger than the training set (", train.size(), ")"));
  }
  return train;
}

// Warm-up one engine at a time, which is also when each one's peak memory is
// measured.
void warm_up(std::vector<std::unique_ptr<EngineRun>>& runs, const Batches& batches,
             std::int64_t warmup, const torch::Device& device) {
  for (auto& run : runs) {
    util::log::info(util::cat("bench: warm-up ", run->name(), " on ", device.str()));
    synchronize(device);
    util::reset_peak_memory(device);
    for (std::int64_t i = 0; i < std::max<std::int64_t>(1, warmup); ++i) {
      const auto k = static_cast<std::size_t>(i) % batches.x.size();
      run->step(batches.x[k], batches.y[k]);
    }
    run->peak_memory = static_cast<double>(util::peak_memory_bytes(device));
    run->clock().reset();
  }
}

// The timed steps round-robin over the engines, so a change in the machine's
// load (shared CI machines) hits all of them alike; each ratio is the median of
// per-round ratios to the non-private step (runs[0]).
json time_rounds(std::vector<std::unique_ptr<EngineRun>>& runs, const Batches& batches,
                 std::int64_t steps) {
  util::log::info(util::cat("bench: ", steps, " interleaved steps"));
  std::vector<std::vector<double>> ratios(runs.size());
  for (std::int64_t i = 0; i < steps; ++i) {
    const auto k = static_cast<std::size_t>(i) % batches.x.size();
    for (auto& run : runs) run->times().push_back(run->step(batches.x[k], batches.y[k]));
    for (std::size_t r = 1; r < runs.size(); ++r) {
      ratios[r].push_back(runs[r]->times().back() / runs[0]->times().back());
    }
  }
  json engines = json::object();
  for (std::size_t r = 1; r < runs.size(); ++r) {
    auto e = summarise(*runs[r], steps);
    e["ratio_to_nonprivate"] = median(ratios[r]);
    engines[runs[r]->name()] = e;
  }
  return engines;
}

}  // namespace

json run_bench(const BenchRequest& request) {
  util::tune_host_allocator();
  if (request.steps < 1) throw util::UserError("--steps must be >= 1");
  const auto c = bench_config(request);
  const auto device = resolve_device(request.device.value_or(c.device), request.device_index);
  const auto engines = bench_engines(request, c);
  const auto train = bench_train_set(c);
  const auto batches = bench_batches(c, train, device);
  json result = {{"device", device.str()},
                 {"machine", util::machine_description(device)},
                 {"batch_size", c.train.batch_size},
                 {"physical_batch_size", c.train.physical_batch_size},
                 {"steps", request.steps},
                 {"warmup", request.warmup},
                 {"model", c.model.name},
                 {"variant", c.variant},
                 {"input_shape", train.inputs.sizes().slice(1).vec()},
                 {"threads", at::get_num_threads()},
                 {"precision", util::precision_name(c.train.precision)},
                 {"augment_multiplicity", c.train.augment_multiplicity}};
  std::vector<std::unique_ptr<EngineRun>> runs;
  runs.push_back(std::make_unique<EngineRun>(c, "nonprivate", train, device));
  result["parameters"] = runs.front()->parameter_count();
  for (const auto& e : engines) runs.push_back(std::make_unique<EngineRun>(c, e, train, device));
  warm_up(runs, batches, request.warmup, device);
  result["engines"] = time_rounds(runs, batches, request.steps);
  result["nonprivate"] = summarise(*runs[0], request.steps);
  result["timing"] = "interleaved rounds; ratio = median of per-round ratios";
  return result;
}

std::string bench_table(const json& r) {
  std::string out = util::cat(
      "machine ", r["machine"].get<std::string>(), "\ndevice ", r["device"].get<std::string>(),
      ", model ", r["model"].get<std::string>(), ", batch ", r["batch_size"].dump(), ", ",
      r["steps"].dump(), " steps after ", r["warmup"].dump(), " warm-up\n");
  char line[256];
  std::snprintf(line, sizeof(line), "%-12s %10s %8s %9s %9s %9s %9s %9s %9s %10s\n", "engine",
                "step_ms", "ratio", "fwd_ms", "bwd_ms", "norms_ms", "clip_ms", "noise_ms", "opt_ms",
                "peak_MiB");
  out += line;
  auto row = [&](const std::string& name, const json& e, double ratio) {
    const auto& p = e["phases"];
    auto ms = [&](const char* k) { return p.contains(k) ? p[k].get<double>() * 1e3 : 0.0; };
    std::snprintf(line, sizeof(line),
                  "%-12s %10.2f %8.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %10.1f\n", name.c_str(),
                  e["median_step_s"].get<double>() * 1e3, ratio, ms("forward"), ms("backward"),
                  ms("norms"), ms("clip_sum"), ms("noise"), ms("optimizer"),
                  e["peak_memory_bytes"].get<double>() / 1048576.0);
    out += line;
  };
  row("nonprivate", r["nonprivate"], 1.0);
  for (const auto& [name, e] : r["engines"].items()) {
    row(name, e, e["ratio_to_nonprivate"].get<double>());
  }
  return out;
}

}  // namespace dpsgd::experiment
