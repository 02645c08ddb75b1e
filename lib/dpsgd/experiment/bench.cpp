#include "dpsgd/experiment/bench.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/experiment/dp_gradient_builder.hpp"
#include "dpsgd/experiment/run_experiment.hpp"
#include "dpsgd/models/model_registry.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/train/nonprivate_gradient.hpp"
#include "dpsgd/train/optimizer_registry.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/machine.hpp"
#include "dpsgd/util/memory.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

void synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

// Exclusive phase times: a nested phase pauses its parent.
class SyncPhaseClock final : public privacy::PhaseClock {
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

json time_engine(const config::ExperimentConfig& c, const std::string& engine,
                 const Batches& batches, const BenchRequest& request, std::int64_t train_size,
                 const torch::Device& device) {
  torch::manual_seed(c.seed);
  auto model = models::model_registry().get(c.model.name)(c.model.options);
  model->to(device);
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto optimizer =
      train::optimizer_registry().get(c.optimizer)(model->parameters(), c.optimizer_options);
  std::unique_ptr<privacy::DpGradient> dp;
  const bool is_private = engine != "nonprivate";
  if (is_private) {
    dp = build_dp_gradient(c, *model, objective,
                           {engine, c.privacy.noise_multipliers.front(), train_size}, device);
  }
  SyncPhaseClock clock(device);
  std::vector<double> step_times;
  synchronize(device);
  util::reset_peak_memory(device);
  const std::int64_t total = request.warmup + request.steps;
  for (std::int64_t i = 0; i < total; ++i) {
    if (i == request.warmup) clock.reset();
    const auto& x = batches.x[static_cast<std::size_t>(i) % batches.x.size()];
    const auto& y = batches.y[static_cast<std::size_t>(i) % batches.y.size()];
    synchronize(device);
    util::Stopwatch step_clock;
    if (is_private) {
      dp->compute(x, y, &clock);
    } else {
      optimizer->zero_grad();
      train::nonprivate_gradient(*model, *objective, x, y, c.train.physical_batch_size, &clock);
    }
    {
      privacy::PhaseScope scope(&clock, "optimizer");
      optimizer->step();
    }
    synchronize(device);
    if (i >= request.warmup) step_times.push_back(step_clock.seconds());
  }
  json phases = json::object();
  for (const auto& [name, seconds] : clock.totals()) {
    phases[name] = seconds / static_cast<double>(request.steps);
  }
  return {{"median_step_s", median(step_times)},
          {"mean_step_s", std::accumulate(step_times.begin(), step_times.end(), 0.0) /
                              static_cast<double>(step_times.size())},
          {"phases", phases},
          {"peak_memory_bytes", util::peak_memory_bytes(device)}};
}

}  // namespace

json run_bench(const BenchRequest& request) {
  if (request.steps < 1) throw util::UserError("--steps must be >= 1");
  auto c = config::load_experiment_config(request.config_path, request.overrides);
  if (c.privacy.noise_multipliers.empty() || !c.privacy.enabled) {
    c.privacy.noise_multipliers = {1.0};
  }
  const auto device = resolve_device(request.device.value_or(c.device));
  std::vector<std::string> engines = request.engines;
  if (engines.empty()) {
    // Every exact engine but the loop, for this clipping method.
    if (c.privacy.microbatches > 0) {
      engines = {"loop"};
    } else if (c.privacy.clipping.mode == "random_sparsification") {
      engines = {"materialize"};
    } else {
      engines = {"materialize", "ghost"};
    }
  }
  for (const auto& e : engines) privacy::engine_registry().get(e);  // unknown: lists valid names

  const auto& factory = data::dataset_registry().get(c.data.name);
  auto train = factory(data::DatasetOptions{c.data.root}, data::DatasetSplit::kTrain);
  if (c.data.train_size > 0) train = train.subset(c.data.train_size);
  if (c.train.batch_size > train.size()) {
    throw util::UserError(util::cat(c.source.string(), ": train.batch_size: '", c.train.batch_size,
                                    "' is larger than the training set (", train.size(), ")"));
  }
  // A few distinct fixed-size batches, identical for every engine.
  Batches batches;
  auto generator = at::detail::createCPUGenerator(c.seed);
  for (int b = 0; b < 4; ++b) {
    const auto idx =
        torch::randperm(train.size(), generator, torch::kInt64).narrow(0, 0, c.train.batch_size);
    batches.x.push_back(train.inputs.index_select(0, idx).to(device));
    batches.y.push_back(train.targets.index_select(0, idx).to(device));
  }

  json result = {{"device", device.str()},
                 {"machine", util::machine_description(device)},
                 {"batch_size", c.train.batch_size},
                 {"physical_batch_size", c.train.physical_batch_size},
                 {"steps", request.steps},
                 {"warmup", request.warmup},
                 {"model", c.model.name},
                 {"threads", at::get_num_threads()}};
  util::log::info(util::cat("bench: nonprivate on ", device.str()));
  result["nonprivate"] = time_engine(c, "nonprivate", batches, request, train.size(), device);
  const double base = result["nonprivate"]["median_step_s"].get<double>();
  result["engines"] = json::object();
  for (const auto& e : engines) {
    util::log::info(util::cat("bench: ", e));
    auto r = time_engine(c, e, batches, request, train.size(), device);
    r["ratio_to_nonprivate"] = r["median_step_s"].get<double>() / base;
    result["engines"][e] = r;
  }
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
