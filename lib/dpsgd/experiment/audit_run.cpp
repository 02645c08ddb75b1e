#include "dpsgd/experiment/audit_run.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/audit/audit_streams.hpp"
#include "dpsgd/audit/canary_guesses.hpp"
#include "dpsgd/audit/gradient_canaries.hpp"
#include "dpsgd/audit/input_canaries.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/distributed/launch_environment.hpp"
#include "dpsgd/experiment/run_folder.hpp"
#include "dpsgd/experiment/run_index.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/experiment/run_selection.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/state_file.hpp"
#include "dpsgd/util/stop_signal.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

const char* kind_name(CanaryKind k) { return k == CanaryKind::kGradient ? "gradient" : "input"; }

// One audit training run: a planned run (or its sigma-0 control) with canaries,
// or the reference run that goes with it.
struct AuditJob {
  const Planned* planned;
  CanaryKind kind;
  bool control;
  bool reference;
  config::ExperimentConfig config;  ///< control: sigma 0, accountant rdp; reference: own seed
  RunPlan plan;
  std::filesystem::path dir;
};

AuditJob make_job(const Planned& p, CanaryKind kind, bool control, bool reference,
                  const std::filesystem::path& out_dir) {
  AuditJob job{&p, kind, control, reference, *p.config, p.plan, {}};
  if (control) {
    // No privacy is claimed for sigma 0 (epsilon is infinite): only RDP answers that.
    job.config.privacy.accountant = "rdp";
    job.config.privacy.noise_multipliers = {0.0};
    job.config.privacy.target_epsilons.clear();
    job.config.privacy.max_epsilon.reset();
    job.plan.sigma = 0.0;
    job.plan.target_epsilon.reset();
    job.plan.step_limit.reset();
  }
  if (reference) {
    // Batches and noise independent of the audited run's (its initial weights
    // are loaded over this seed's: they are public).
    job.config.seed = job.config.train.seed =
        audit::audit_substream(p.config->seed, audit::kReferenceSubstream);
  }
  const std::string role =
      std::string(control ? "control" : "audited") + (reference ? "-reference" : "");
  job.dir = out_dir / "audit" / kind_name(kind) / role / p.directory();
  return job;
}

// What makes the canaries: in the folder, so that a changed --canaries is not
// mistaken for a finished or resumable audit run.
json canary_record(const AuditJob& job, std::int64_t m) {
  return {{"kind", kind_name(job.kind)},
          {"canaries", m},
          {"seed", job.planned->config->seed},
          {"reference", job.reference}};
}

// A folder with results must hold this job's run: the same canaries and the
// same configuration. Throws util::UserError otherwise; returns its status.
std::optional<train::RunStatus> check_folder(const AuditJob& job, std::int64_t m) {
  const auto record_path = job.dir / "canaries.json";
  const auto status = recorded_status(job.dir);
  if (!has_results(job.dir, status)) return status;
  if (read_json_file(record_path) != canary_record(job, m)) {
    throw util::UserError(record_path.string() +
                          ": this audit run was made with other canaries; delete " +
                          job.dir.string() + " to redo it");
  }
  try {
    check_resumable(Planned{&job.config, job.plan, job.planned->data}, job.dir);
  } catch (const util::UserError&) {
    throw util::UserError((job.dir / "config.yaml").string() +
                          ": this audit run was made with another configuration; delete " +
                          job.dir.string() + " to redo it");
  }
  return status;
}

// Trains (or resumes) the job's run unless a finished one with the same
// canaries is there; returns its summary.
json train_job(const AuditJob& job, const LoadedData& data, const torch::Device& device,
               std::int64_t m, const AuditHooks& hooks) {
  const auto status = check_folder(job, m);
  if (status && train::is_final(*status)) {
    std::ifstream summary(summary_path(job.dir));
    return json::parse(summary);
  }
  std::filesystem::create_directories(job.dir);
  util::write_file_atomically(job.dir / "canaries.json", dump_json(canary_record(job, m)));
  auto comm = distributed::single_process();
  const bool resume = std::filesystem::exists(checkpoint_path(job.dir));
  return run_one(job.config, job.plan, data, device, job.dir, resume, *comm, hooks);
}

// A run that reached its end and saved its model (completed, or stopped by the
// privacy budget).
bool has_model(const json& summary) {
  const auto status = train::parse_status(summary.value("status", ""));
  return status == train::RunStatus::kCompleted || status == train::RunStatus::kBudgetExhausted;
}

struct Scored {
  json summary;
  json reference_summary;
  std::int64_t injections = -1;  ///< gradient canaries: how many joined a step, all steps
  std::vector<double> scores;
  std::vector<bool> included;
};

// The white-box audit: canaries injected into the clipped sum, scored by the
// final weights' movement along them relative to the reference run's.
Scored gradient_audit(const AuditJob& job, const AuditJob& ref, const LoadedData& data,
                      const torch::Device& device, std::int64_t m) {
  auto parts = build_parts(job.config, data, job.plan.sigma, device);  // theta_0: the run's init
  const auto initial = train::model_tensors(*parts.model);
  const auto inspected = privacy::inspect_model(*parts.model);
  std::vector<std::vector<std::int64_t>> shapes;
  for (const auto& t : inspected.params) shapes.push_back(t.sizes().vec());
  const auto seed = job.config.seed;
  auto canaries = std::make_shared<audit::GradientCanaries>(seed, audit::draw_membership(seed, m),
                                                            inspected.param_names, shapes);
  Scored out;
  out.summary = train_job(job, data, device, m, {canaries, nullptr});
  out.reference_summary = train_job(ref, data, device, m, {nullptr, &initial});
  if (out.summary.contains("steps") && out.summary.contains("privacy")) {
    out.injections =
        canaries->count_injections(out.summary["steps"].get<std::int64_t>(),
                                   out.summary["privacy"]["sample_rate"].get<double>());
  }
  if (!has_model(out.summary) || !has_model(out.reference_summary)) return out;
  out.scores = canaries->scores(util::load_tensor_dict(model_path(ref.dir)),
                                util::load_tensor_dict(model_path(job.dir)));
  out.included = canaries->included();
  return out;
}

std::vector<double> log_probabilities(const AuditJob& job, const LoadedData& data,
                                      const torch::Device& device,
                                      const data::TensorDataset& canaries) {
  auto parts = build_parts(job.config, data, job.plan.sigma, device);
  train::load_model_tensors(*parts.model, util::load_tensor_dict(model_path(job.dir)));
  return audit::input_canary_scores(*parts.model, canaries);
}

// The black-box audit: mislabelled canaries in the training set, scored by the
// released model's log-probability of their labels less the reference model's.
Scored input_audit(const AuditJob& job, const AuditJob& ref, const LoadedData& data,
                   const torch::Device& device, std::int64_t m) {
  const auto classes = job.config.model.options.num_classes;
  auto canaries = audit::make_input_canaries(data.train, classes, m, job.config.seed);
  const LoadedData with{canaries.train, data.val, data.test, data.features};
  const LoadedData without{canaries.reference_train, data.val, data.test, data.features};
  const auto initial =
      train::model_tensors(*build_parts(job.config, with, job.plan.sigma, device).model);
  Scored out;
  out.summary = train_job(job, with, device, m, {});
  out.reference_summary = train_job(ref, without, device, m, {nullptr, &initial});
  if (!has_model(out.summary) || !has_model(out.reference_summary)) return out;
  out.scores = log_probabilities(job, with, device, canaries.canaries);
  const auto base = log_probabilities(ref, without, device, canaries.canaries);
  for (std::size_t i = 0; i < out.scores.size(); ++i) out.scores[i] -= base[i];
  out.included = canaries.included;
  return out;
}

json verdict(const AuditJob& job, double reported, double bound) {
  if (job.control) {
    return util::cat("control (sigma 0, no privacy claimed): a lower bound of ", bound,
                     " shows what this audit detects when nothing is private");
  }
  if (bound <= reported) {
    return util::cat("consistent: the lower bound ", bound,
                     " does not exceed the reported epsilon ", reported);
  }
  return util::cat("VIOLATION: the lower bound ", bound, " exceeds the reported epsilon ", reported,
                   " at confidence the audit states; investigate this run");
}

json audit_entry(const AuditJob& job, const AuditJob& ref, const Scored& s, const AuditRequest& r) {
  json entry = {{"run", job.planned->directory()},
                {"kind", kind_name(job.kind)},
                {"role", job.control ? "control" : "audited"},
                {"directory", job.dir.string()},
                {"reference_directory", ref.dir.string()},
                {"noise_multiplier", job.plan.sigma},
                {"status", s.summary.value("status", "failed")},
                {"reference_status", s.reference_summary.value("status", "failed")}};
  const double reported = s.summary.contains("epsilon") && s.summary["epsilon"].is_number()
                              ? s.summary["epsilon"].get<double>()
                              : std::numeric_limits<double>::infinity();
  entry["reported_epsilon"] = std::isfinite(reported) ? json(reported) : json("infinite");
  entry["canaries"] = r.canaries;
  entry["confidence"] = r.confidence;
  if (s.injections >= 0) entry["canary_injections"] = s.injections;
  if (s.scores.empty()) return entry;
  const auto bounds = audit::audit_bounds(s.scores, s.included, job.config.privacy.delta,
                                          r.confidence, audit::default_guess_counts(r.canaries));
  entry.update(bounds.to_json());
  entry["verdict"] = verdict(job, reported, bounds.best.one_run);
  entry["violation"] = !job.control && bounds.best.one_run > reported;
  return entry;
}

}  // namespace

namespace {

// The canaries of `kind` can be added to run `p` (util::UserError otherwise).
void check_canaries(const Planned& p, const LoadedData& data, CanaryKind kind, std::int64_t m,
                    const torch::Device& device) {
  const auto& c = *p.config;
  const std::string where = c.source.string() + ": run '" + p.directory() + "': ";
  if (kind == CanaryKind::kInput) {
    const auto made =
        audit::make_input_canaries(data.train, c.model.options.num_classes, m, c.seed);
    if (made.reference_train.size() < c.train.batch_size) {
      throw util::UserError(where + "--canaries " + std::to_string(m) + " leave " +
                            std::to_string(made.reference_train.size()) +
                            " training examples, fewer than train.batch_size; use fewer canaries");
    }
    return;
  }
  auto parts = build_parts(c, data, p.plan.sigma, device);
  try {
    parts.dp->set_injected(std::make_shared<audit::GradientCanaries>(
        c.seed, std::vector<bool>(1, true), std::vector<std::string>{"x"},
        std::vector<std::vector<std::int64_t>>{{1}}));
  } catch (const std::invalid_argument& e) {
    throw util::UserError(where + "gradient canaries cannot be injected: " + e.what() +
                          "; use --kind input");
  }
}

// Refuses, before any training, what the canaries cannot be added to, and
// folders that hold another audit's runs.
void check_auditable(const std::vector<Planned>& selected, const Experiment& x,
                     const AuditRequest& r, const torch::Device& device,
                     const std::filesystem::path& out_dir) {
  for (const auto& p : selected) {
    const auto& c = *p.config;
    if (!c.privacy.enabled || c.head.method != config::HeadMethod::kDpSgd) {
      throw util::UserError(c.source.string() + ": run '" + p.directory() +
                            "': only private DP-SGD runs can be audited (privacy.enabled: "
                            "true, head.method: dp_sgd)");
    }
    for (const auto kind : r.kinds) {
      check_canaries(p, x.loaded[p.data], kind, r.canaries, device);
      for (const bool control : {false, true}) {
        if (control && !r.control) continue;
        for (const bool reference : {false, true}) {
          (void)check_folder(make_job(p, kind, control, reference, out_dir), r.canaries);
        }
      }
    }
  }
}

// audit.json keeps the entries of earlier audits of other runs, kinds or roles
// (an audit with --only A, then one with --only B): this audit's replace theirs.
json merged_audits(const std::filesystem::path& file, const json& fresh) {
  const auto old = read_json_file(file);
  json out = json::array();
  const auto key = [](const json& e) {
    return e.value("run", "") + "|" + e.value("kind", "") + "|" + e.value("role", "");
  };
  if (old.is_object() && old.contains("audits") && old["audits"].is_array()) {
    for (const auto& e : old["audits"]) {
      const bool replaced =
          std::any_of(fresh.begin(), fresh.end(), [&](const json& f) { return key(f) == key(e); });
      if (!replaced) out.push_back(e);
    }
  }
  for (const auto& e : fresh) out.push_back(e);
  return out;
}

json audit_header(const Experiment& x, const AuditRequest& r) {
  json kinds = json::array();
  for (const auto k : r.kinds) kinds.push_back(kind_name(k));
  return {{"experiment", x.configs.front().name},
          {"config", std::filesystem::absolute(r.experiment.config_path).string()},
          {"method",
           "one-run audit (Steinke, Nasr, Jagielski 2023, NeurIPS): m canaries, each included "
           "with probability 1/2; IN guesses for the top-scored, OUT for the bottom-scored; the "
           "epsilon lower bound from the exact p-value at the stated confidence, Bonferroni over "
           "the guess counts tried. clopper_pearson_lower_bound: Jagielski et al. 2020's bound "
           "from the same scores, which treats the canaries as independent trials (not valid "
           "for one run: for comparison only)"},
          {"canaries", r.canaries},
          {"confidence", r.confidence},
          {"kinds", kinds},
          {"audits", json::array()}};
}

}  // namespace

int run_audit(const AuditRequest& r) {
  util::install_stop_handlers();
  const auto& er = r.experiment;
  if (distributed::read_launch_environment().world_size > 1) {
    throw util::UserError("dpsgd-run audit runs in one process; launch it without torchrun/srun");
  }
  if (r.canaries < 1) throw util::UserError("--canaries: must be at least 1");
  Experiment x;
  x.configs = config::load_experiment_variants(er.config_path, er.overrides, er.variants);
  const auto& first = x.configs.front();
  const auto device = resolve_device(er.device.value_or(first.device), er.device_index);
  const auto out_dir = er.out_dir.value_or(std::filesystem::path("results") / first.name);
  load_and_plan(x, device);
  const auto selected = select_runs(x.planned, er.only, er.shard);
  check_auditable(selected, x, r, device, out_dir);
  std::filesystem::create_directories(out_dir);
  auto report = audit_header(x, r);
  json fresh = json::array();
  int code = 0;
  for (const auto& p : selected) {
    for (const auto kind : r.kinds) {
      for (const bool control : {false, true}) {
        if (control && !r.control) continue;
        const auto job = make_job(p, kind, control, /*reference=*/false, out_dir);
        const auto ref = make_job(p, kind, control, /*reference=*/true, out_dir);
        const auto& data = x.loaded[p.data];
        const auto scored = kind == CanaryKind::kGradient
                                ? gradient_audit(job, ref, data, device, r.canaries)
                                : input_audit(job, ref, data, device, r.canaries);
        auto entry = audit_entry(job, ref, scored, r);
        if (entry.value("violation", false) || !entry.contains("epsilon_lower_bound")) code = 1;
        util::log::info(util::cat(
            "audit ", p.directory(), " [", kind_name(kind), ", ", control ? "control" : "audited",
            "]: ",
            entry.value("verdict", json("no bound: the run did not complete")).get<std::string>()));
        fresh.push_back(std::move(entry));
        report["audits"] = merged_audits(out_dir / "audit.json", fresh);
        util::write_file_atomically(out_dir / "audit.json", dump_json(report));
        if (const int signal = util::stop_requested()) return util::exit_code_for_signal(signal);
      }
    }
  }
  return code;
}

}  // namespace dpsgd::experiment
