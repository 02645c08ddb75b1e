#include "dpsgd/experiment/run_summary.hpp"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/util/build_info.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/machine.hpp"
#include "dpsgd/util/memory.hpp"
#include "dpsgd/util/version.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

// Every (sigma, q, steps) segment the accountant recorded: what the tuning
// analysis (tuning/selection_privacy.hpp) recomposes.
json history_json(const std::vector<accounting::MechanismSegment>& history) {
  json out = json::array();
  for (const auto& s : history) {
    out.push_back({{"noise_multiplier", s.noise_multiplier},
                   {"sample_rate", s.sample_rate},
                   {"steps", s.steps}});
  }
  return out;
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
      {"randomness", c.privacy.secure_rng
                         ? "secure_rng: Poisson sampling, noise, masks, microbatch assignment and "
                           "adaptive count noise from the OS CSPRNG (getrandom); not "
                           "bit-reproducible; the setting for released models"
                         : "seeded streams derived from the seed (reproducible research run; "
                           "not for releasing models: the seed reveals the batches and the "
                           "noise)"},
      {"engine", dp.engine_name()},
      {"noise_std", dp.noise_std()},
      {"target_epsilon", plan.target_epsilon ? json(*plan.target_epsilon) : json(nullptr)},
      {"max_epsilon", c.privacy.max_epsilon ? json(*c.privacy.max_epsilon) : json(nullptr)},
      {"budget_step_limit", plan.step_limit ? json(*plan.step_limit) : json(nullptr)},
      {"history", history_json(dp.accountant().history())},
  };
}

}  // namespace

json run_summary(const RunRecord& r, const train::TrainParts& parts,
                 const train::TrainResult& result, const torch::Device& device) {
  const auto& c = r.config;
  const bool is_private = parts.dp != nullptr;
  json summary = {
      {"schema_version", kSummarySchemaVersion},
      {"run_id", r.plan.id},
      {"status", train::status_name(result.status)},
      {"private", is_private},
      {"final_test", result.final_test},
      {"epsilon", is_private ? json(result.epsilon) : json(nullptr)},
      {"delta", is_private ? json(c.privacy.delta) : json(nullptr)},
      {"steps", result.steps},
      {"epochs", c.train.epochs},
      {"loss_function", resolved_loss_name(c, r.data.train)},
      {"variant", c.variant.empty() ? json(nullptr) : json(c.variant)},
      {"total_time_s", result.total_time_s},
      {"phase_times_s", result.phase_times_s},
      {"config", r.resolved},
      {"started_at", r.started},
      {"finished_at", now_iso8601()},
  };
  if (!result.final_test_ema.empty()) summary["final_test_ema"] = result.final_test_ema;
  if (c.train.precision != util::Precision::kFloat32) {
    summary["precision"] = util::precision_name(c.train.precision);
  }
  add_run_context(summary, c, r.data, device);
  if (is_private) summary["privacy"] = privacy_summary(c, r.plan, *parts.dp);
  return summary;
}

void add_run_context(json& summary, const config::ExperimentConfig& c, const LoadedData& data,
                     const torch::Device& device) {
  summary["train_examples"] = data.train.size();
  summary["val_examples"] = data.val.size();
  summary["test_examples"] = data.test.size();
  summary["peak_memory_bytes"] = util::peak_memory_bytes(device);
  summary["peak_memory_source"] = device.is_cuda() ? "cuda_allocator" : "resident_set";
  summary["seed"] = c.seed;
  summary["device"] = device.str();
  summary["machine"] = util::machine_description(device);
  summary["libtorch_version"] = util::libtorch_version();
  summary["dpsgd_version"] = util::kVersion;
  summary["git_commit"] = util::kGitCommit;
  if (!data.features) return;
  summary["features"] = data.features->to_json();
  summary["data_splits"] = {
      {"public", {data.features->provenance}},
      {"private", util::cat("the training split of data '", c.data.name, "' (", data.train.size(),
                            " examples)")},
      {"epsilon_covers",
       "the private training split only: the feature extractor, and any data it was "
       "trained on, are public by declaration and are not covered"},
  };
}

std::string now_iso8601() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

}  // namespace dpsgd::experiment
