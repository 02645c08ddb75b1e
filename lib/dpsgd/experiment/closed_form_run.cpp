#include "dpsgd/experiment/closed_form_run.hpp"

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/accounting/pipeline.hpp"
#include "dpsgd/config/config_json.hpp"
#include "dpsgd/experiment/head_pipeline.hpp"
#include "dpsgd/experiment/run_index.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/experiment/run_summary.hpp"
#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/heads/linear_head.hpp"
#include "dpsgd/models/zoo/linear_model.hpp"
#include "dpsgd/privacy/gaussian_noise.hpp"
#include "dpsgd/train/metrics_log.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/state_file.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

heads::LinearHead fit_head(const config::ExperimentConfig& c, const RunPlan& plan,
                           const LoadedData& data, const torch::Device& device) {
  privacy::GaussianNoise noise(
      util::stream_source(c.seed, util::SeedStream::kNoise, c.privacy.secure_rng, device));
  const auto x = data.train.inputs.flatten(1);
  const auto k = c.model.options.num_classes;
  if (c.head.method == config::HeadMethod::kDpLs) {
    return heads::fit_dp_ls(x, data.train.targets, k, dp_ls_options(c.head, plan.sigma), noise);
  }
  return heads::fit_dp_fc(x, data.train.targets, k, dp_fc_options(c.head, plan.sigma), noise);
}

// The head as the zoo's linear model, so evaluation and model.pt are those of
// any other run.
std::shared_ptr<models::LinearModel> as_model(const heads::LinearHead& head,
                                              const torch::Device& device) {
  auto model = std::make_shared<models::LinearModel>(head.weight.size(1), head.weight.size(0),
                                                     /*zero_init=*/true);
  train::load_model_tensors(*model, {{"fc.weight", head.weight.to(torch::kFloat32)},
                                     {"fc.bias", head.bias.to(torch::kFloat32)}});
  model->to(device);
  return model;
}

json mechanism_rows(const config::ExperimentConfig& c, double sigma) {
  json rows = json::array();
  const double C = c.head.clip_norm;
  const bool ls = c.head.method == config::HeadMethod::kDpLs;
  const auto segments = head_mechanisms(c.head, sigma);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& s = segments[i];
    json row = {{"noise_multiplier", s.noise_multiplier},
                {"sample_rate", s.sample_rate},
                {"steps", s.steps}};
    const bool class_grams = ls && c.head.class_weight_alpha && i == 1;
    if (i == 0) {
      row["release"] = "Gram matrix of the clipped features (upper triangle, mirrored)";
      row["sensitivity"] = C * C;
    } else if (class_grams) {
      row["release"] = "per-class Gram matrices of the clipped features (one example changes one)";
      row["sensitivity"] = C * C;
    } else if (ls) {
      row["release"] = "per-class sums of the clipped features";
      row["sensitivity"] = C;
    } else {
      row["release"] = "sum of per-example gradients clipped to head.gradient_clip_norm";
      row["sensitivity"] = c.head.gradient_clip_norm;
    }
    row["noise_std"] = s.noise_multiplier * row["sensitivity"].get<double>();
    rows.push_back(row);
  }
  return rows;
}

json head_privacy(const config::ExperimentConfig& c, const RunPlan& plan) {
  const bool ls = c.head.method == config::HeadMethod::kDpLs;
  return {
      {"mechanism", ls ? "Gaussian mechanism on clipped sufficient statistics, then a ridge "
                         "solve (DP-LS; Mehta et al., TMLR 2023)"
                       : "Gaussian mechanism on the clipped feature covariance, then full-batch "
                         "DP gradient descent preconditioned by it (DP-FC; Mehta et al., TMLR "
                         "2023)"},
      {"releases", mechanism_rows(c, plan.sigma)},
      {"noise_multiplier", plan.sigma},
      {"budget_split", util::cat("head.budget_share ", c.head.budget_share,
                                 ": a release with share f runs at sigma / sqrt(f)")},
      {"sampling", "none: every release uses the whole training set (q = 1)"},
      {"neighbouring_relation", "add/remove one example"},
      {"accountant", c.privacy.accountant},
      {"randomness", c.privacy.secure_rng ? "secure_rng: noise from the OS CSPRNG (getrandom)"
                                          : "seeded noise stream derived from the seed"},
      {"target_epsilon", plan.target_epsilon ? json(*plan.target_epsilon) : json(nullptr)},
  };
}

// Evaluates on val (when present) and test, as metrics.json rows; returns test's.
json evaluate_head(const config::ExperimentConfig& c, const LoadedData& data, models::Model& model,
                   double epsilon, const util::Stopwatch& clock, train::MetricsLog& log) {
  const auto objective = build_objective(c, data.train, data.val, data.test);
  json final_test;
  for (const auto& [name, split] : {std::pair{"val", &data.val}, std::pair{"test", &data.test}}) {
    if (split->size() == 0) continue;
    auto row = train::evaluate(model, *objective, *split, c.train.eval_batch_size);
    row["split"] = name;
    row["step"] = 1;
    row["epsilon"] = epsilon;
    row["wall_time"] = clock.seconds();
    if (std::string(name) == "test") final_test = row;
    log.add_evaluation(row);
  }
  log.maybe_flush(/*force=*/true);
  return final_test;
}

double head_epsilon(const config::ExperimentConfig& c, double sigma) {
  if (!c.privacy.enabled) return 0.0;
  const auto& factory = accounting::accountant_registry().get(c.privacy.accountant);
  const auto options = c.privacy.accountant_options;
  return accounting::reported_epsilon(
      accounting::epsilon_of([&factory, options] { return factory(options); },
                             head_mechanisms(c.head, sigma), c.privacy.delta));
}

}  // namespace

json run_closed_form(const config::ExperimentConfig& c, const RunPlan& plan, const LoadedData& data,
                     const torch::Device& device, const std::filesystem::path& run_dir) {
  const auto resolved = config::run_config_json(c, plan.sigma);
  const auto started = now_iso8601();
  util::write_file_atomically(run_dir / "config.yaml", config::json_to_yaml(resolved));
  util::Stopwatch clock;
  const auto head = fit_head(c, plan, data, device);
  const double fit_seconds = clock.seconds();
  auto model = as_model(head, device);
  const double epsilon = head_epsilon(c, plan.sigma);
  train::MetricsLog log(run_dir / "metrics.json", 0.0);
  const auto final_test = evaluate_head(c, data, *model, epsilon, clock, log);
  util::save_tensor_dict(model_path(run_dir), train::model_tensors(*model));
  json summary = {{"schema_version", kSummarySchemaVersion},
                  {"run_id", plan.id},
                  {"status", "completed"},
                  {"private", c.privacy.enabled},
                  {"head", resolved["head"]},
                  {"final_test", final_test},
                  {"epsilon", c.privacy.enabled ? json(epsilon) : json(nullptr)},
                  {"delta", c.privacy.enabled ? json(c.privacy.delta) : json(nullptr)},
                  {"steps", c.head.method == config::HeadMethod::kDpFc ? c.head.steps : 1},
                  {"total_time_s", clock.seconds()},
                  {"phase_times_s", {{"fit", fit_seconds}}},
                  {"config", resolved},
                  {"started_at", started},
                  {"finished_at", now_iso8601()}};
  add_run_context(summary, c, data, device);
  if (c.privacy.enabled) summary["privacy"] = head_privacy(c, plan);
  util::write_file_atomically(summary_path(run_dir), dump_json(summary));
  util::log::info(util::cat("run ", plan.id, ": head fitted in ", fit_seconds, " s, test ",
                            final_test.dump(), ", epsilon ", epsilon));
  return summary;
}

}  // namespace dpsgd::experiment
