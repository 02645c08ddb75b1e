#include "dpsgd/experiment/run_one.hpp"

#include <optional>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/experiment/closed_form_run.hpp"
#include "dpsgd/experiment/dp_gradient_builder.hpp"
#include "dpsgd/experiment/run_index.hpp"
#include "dpsgd/experiment/run_summary.hpp"
#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/train/optimizer_registry.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/memory.hpp"
#include "dpsgd/util/seeds.hpp"
#include "dpsgd/util/state_file.hpp"

namespace dpsgd::experiment {

using nlohmann::json;

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

namespace {

// The leader's files before the first step.
RunRecord start_record(const config::ExperimentConfig& c, const RunPlan& plan,
                       const LoadedData& data, const std::filesystem::path& run_dir) {
  RunRecord record{c, plan, data, config::run_config_json(c, plan.sigma), now_iso8601()};
  util::write_file_atomically(run_dir / "config.yaml", config::json_to_yaml(record.resolved));
  util::write_file_atomically(summary_path(run_dir),
                              dump_json({{"schema_version", kSummarySchemaVersion},
                                         {"run_id", plan.id},
                                         {"status", "running"},
                                         {"started_at", record.started}}));
  return record;
}

json processes_json(const distributed::Communicator& comm) {
  return {{"world_size", comm.world_size()}, {"backend", comm.backend()}};
}

}  // namespace

json run_one(const config::ExperimentConfig& c, const RunPlan& plan, const LoadedData& data,
             const torch::Device& device, const std::filesystem::path& run_dir, bool resume,
             distributed::Communicator& comm, const AuditHooks& hooks) {
  if (c.head.method != config::HeadMethod::kDpSgd) {
    return run_closed_form(c, plan, data, device, run_dir);
  }
  const bool leader = comm.is_leader();
  std::optional<RunRecord> record;
  if (leader) record.emplace(start_record(c, plan, data, run_dir));
  util::reset_peak_memory(device);
  auto parts = build_parts(c, data, plan.sigma, device);
  if (hooks.injected) parts.dp->set_injected(hooks.injected);
  if (hooks.initial_weights != nullptr) {
    train::load_model_tensors(*parts.model, *hooks.initial_weights);
  }
  train::TrainOptions options = c.train;
  options.delta = c.privacy.delta;
  train::MetricsLog log(leader ? run_dir / "metrics.json" : std::filesystem::path(),
                        c.train.flush_every_s);
  train::RunControl control;
  control.step_limit = plan.step_limit;
  control.communicator = &comm;
  if (leader) {
    control.save_checkpoint = [&](const util::StateMap& state) {
      util::save_state_file(checkpoint_path(run_dir), state);
    };
  }
  util::StateMap saved;
  if (resume) {
    saved = util::load_state_file(checkpoint_path(run_dir));
    control.resume_from = &saved;
    util::log::info(util::cat("run ", plan.id, ": resuming from ",
                              checkpoint_path(run_dir).string(), " at step ",
                              saved.value("step").dump()));
  } else {
    log.maybe_flush(/*force=*/true);
  }
  const auto result = train::run_training(parts, options, log, plan.id, device, control);
  if (!leader) return {{"status", train::status_name(result.status)}};
  auto summary = run_summary(*record, parts, result, device);
  summary["processes"] = processes_json(comm);
  if (result.status == train::RunStatus::kCompleted ||
      result.status == train::RunStatus::kBudgetExhausted) {
    util::save_tensor_dict(model_path(run_dir), train::model_tensors(*parts.model));
    if (!result.ema_model.empty())
      util::save_tensor_dict(model_ema_path(run_dir), result.ema_model);
  }
  util::write_file_atomically(summary_path(run_dir), dump_json(summary));
  return summary;
}

}  // namespace dpsgd::experiment
