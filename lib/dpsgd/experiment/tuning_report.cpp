#include "dpsgd/experiment/tuning_report.hpp"

#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <string>

#include "dpsgd/accounting/rdp_accountant.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/experiment/run_folder.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/train/step_count.hpp"
#include "dpsgd/tuning/selection_privacy.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

struct Finished {
  const Planned* planned;
  json summary;
  std::optional<double> metric;  ///< the last validation row's value
  std::vector<double> rdp;       ///< the run's own composed RDP curve (empty: unknown)
};

std::optional<double> last_validation(const std::filesystem::path& run_dir,
                                      const std::string& metric) {
  const auto metrics = read_json_file(run_dir / "metrics.json");
  std::optional<double> out;
  if (!metrics.is_object() || !metrics.contains("evaluations")) return out;
  for (const auto& row : metrics["evaluations"]) {
    if (row.value("split", "") == "val" && row.contains(metric) && row[metric].is_number()) {
      out = row[metric].get<double>();
    }
  }
  return out;
}

// The accountant history a summary records; nullopt when it has none (a summary
// of an older version, or edited): such a run's cost is unknown, never zero.
std::optional<std::vector<accounting::MechanismSegment>> history_of(const json& summary) {
  std::vector<accounting::MechanismSegment> out;
  try {
    for (const auto& s : summary.at("privacy").at("history")) {
      out.push_back({s.at("noise_multiplier").get<double>(), s.at("sample_rate").get<double>(),
                     s.at("steps").get<std::int64_t>()});
    }
  } catch (const json::exception&) {
    return std::nullopt;
  }
  if (out.empty() && summary.value("steps", 0) > 0) return std::nullopt;
  return out;
}

// The planned (largest) RDP curve of every point random trials could draw.
std::vector<std::vector<double>> candidate_curves(const CandidateSource& source,
                                                  const std::vector<double>& orders) {
  auto overrides = source.overrides;
  overrides.emplace_back("tuning=null");  // without tuning: the sweep's whole grid
  Experiment all;
  all.configs = config::load_experiment_variants(source.config_path, overrides, {});
  load_and_plan(all, torch::kCPU);
  std::vector<std::vector<double>> curves;
  for (const auto& p : all.planned) {
    const auto& c = *p.config;
    const auto n = all.loaded[p.data].train.size();
    const auto steps =
        p.plan.step_limit.value_or(train::total_steps(n, c.train.batch_size, c.train.epochs));
    const double q = data::poisson_sample_rate(c.train.batch_size, n);
    curves.push_back(tuning::history_rdp({{p.plan.sigma, q, steps}}, orders));
  }
  return curves;
}

double epsilon_of(const std::vector<double>& orders, const std::vector<double>& rdp, double delta) {
  return accounting::rdp_to_epsilon(orders, rdp, delta, accounting::RdpConversion::kImproved)
      .epsilon;
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

void check_tuning(const Experiment& x, const CandidateSource& source) {
  const auto& first = x.configs.front();
  if (!first.tuning.enabled) return;
  const std::string file = first.source.string();
  for (const auto& c : x.configs) {
    if (!c.privacy.enabled || c.head.method != config::HeadMethod::kDpSgd) {
      throw util::UserError(file +
                            ": tuning: every run must be a private DP-SGD run (head.method "
                            "dp_sgd, privacy.enabled: true); the analysis covers nothing else");
    }
    if (c.privacy.delta != first.privacy.delta) {
      throw util::UserError(file + ": privacy.delta: tuning needs one delta for all runs");
    }
  }
  for (const auto& data : x.loaded) {
    if (data.val.size() == 0) {
      throw util::UserError(file +
                            ": tuning.metric: the selection reads the validation split, "
                            "and data '" +
                            first.data.name +
                            "' has none; set "
                            "data.val_from_train: N (never select on the test split)");
    }
  }
  // Every point random trials could have drawn must plan, now rather than after training.
  if (first.tuning.trials != config::TrialCount::kEvery) {
    (void)candidate_curves(source, accounting::default_rdp_orders());
  }
}

namespace {

const char* trials_name(config::TrialCount t) {
  switch (t) {
    case config::TrialCount::kEvery:
      return "every";
    case config::TrialCount::kPoisson:
      return "poisson";
    case config::TrialCount::kTruncatedNegativeBinomial:
      return "truncated_negative_binomial";
  }
  return "every";
}

// The selection's (epsilon, how) for the finished runs `done`.
double selection_epsilon(const config::TuningConfig& t, const std::vector<Finished>& done,
                         const CandidateSource& source, double delta, json& report) {
  const auto orders = accounting::default_rdp_orders();
  std::vector<std::vector<double>> own;
  for (const auto& f : done) own.push_back(f.rdp);
  const double composed = epsilon_of(orders, tuning::composed_rdp(own), delta);
  report["epsilon_if_all_released"] = number_or_null(composed);
  if (t.trials == config::TrialCount::kEvery) {
    report["analysis"] =
        "a fixed number of trials: releasing the best costs what releasing every run costs, the "
        "RDP composition of all runs (Mironov 2017, Prop. 1), converted as Balle et al. 2020";
    return composed;
  }
  const auto trial = tuning::mixture_rdp(candidate_curves(source, orders));
  report["epsilon_one_trial"] = number_or_null(epsilon_of(orders, trial, delta));
  std::vector<double> curve;
  if (t.trials == config::TrialCount::kPoisson) {
    report["expected_trials"] = t.mean;
    report["analysis"] = "Papernot and Steinke 2022, Thm 6 (Poisson number of trials)";
    curve = tuning::poisson_selection_rdp(orders, trial, t.mean);
  } else {
    const tuning::TruncatedNegativeBinomial k{t.eta, t.gamma};
    report["expected_trials"] = k.mean();
    report["eta"] = t.eta;
    report["gamma"] = t.gamma;
    report["analysis"] =
        "Papernot and Steinke 2022, Thm 2 (truncated negative binomial number of trials)";
    curve = tuning::tnb_selection_rdp(orders, trial, k);
  }
  report["trial_rdp"] =
      "the largest RDP of every point the trials could draw (planned sigma, q and steps)";
  return epsilon_of(orders, curve, delta);
}

const Finished* select_best(const config::TuningConfig& t, const std::vector<Finished>& done) {
  const Finished* best = nullptr;
  for (const auto& f : done) {
    if (!f.metric) continue;
    if (best == nullptr || (t.maximise ? *f.metric > *best->metric : *f.metric < *best->metric)) {
      best = &f;
    }
  }
  return best;
}

std::vector<Finished> finished_runs(const Experiment& x, const std::filesystem::path& out_dir,
                                    const std::string& metric) {
  const auto orders = accounting::default_rdp_orders();
  std::vector<Finished> done;
  for (const auto& p : x.planned) {
    const auto dir = out_dir / p.directory();
    auto summary = read_json_file(summary_path(dir));
    const std::string status = summary.is_object() ? summary.value("status", "") : "";
    // A diverged run is final too (a rerun skips it): it spent its budget, and
    // without a usable model it has no metric, so it cannot be selected.
    const bool diverged = status == "diverged";
    if (status != "completed" && status != "budget_exhausted" && !diverged) continue;
    const auto history = history_of(summary);
    auto rdp = history ? tuning::history_rdp(*history, orders) : std::vector<double>();
    auto value = diverged ? std::nullopt : last_validation(dir, metric);
    done.push_back({&p, std::move(summary), value, std::move(rdp)});
  }
  return done;
}

// tuning.json without a selection, and no index row keeping the selection of an
// earlier, complete tuning (a --restart that failed, a run deleted since).
void no_selection(const Experiment& x, const std::filesystem::path& out_dir, RunIndex& index,
                  json& report, const std::string& status, const std::string& error) {
  report["status"] = status;
  if (!error.empty()) {
    report["error"] = error;
    util::log::warn("tuning: " + error);
  }
  for (const auto& p : x.planned) {
    index.update(p.directory(), {{"selected", nullptr}, {"epsilon_of_selected", nullptr}});
  }
  util::write_file_atomically(out_dir / "tuning.json", dump_json(report));
}

}  // namespace

void report_tuning(const Experiment& x, const CandidateSource& source,
                   const std::filesystem::path& out_dir, RunIndex& index) {
  const auto& t = x.configs.front().tuning;
  if (!t.enabled) return;
  const double delta = x.configs.front().privacy.delta;
  const auto done = finished_runs(x, out_dir, t.metric);
  json report = {
      {"metric", t.metric},
      {"mode", t.maximise ? "max" : "min"},
      {"split", "val"},
      {"trials", trials_name(t.trials)},
      {"drawn_trials", t.drawn_trials},
      {"planned_runs", x.planned.size()},
      {"finished_runs", done.size()},
      {"delta", delta},
      {"validation_split",
       "read by the selection and not covered by any epsilon here: it must be public, or held "
       "out and treated as public"}};
  if (done.size() < x.planned.size()) {
    // Another shard may still run the rest, or a run failed: no selection yet.
    return no_selection(x, out_dir, index, report, "incomplete", "");
  }
  for (const auto& f : done) {
    if (f.rdp.empty()) {
      return no_selection(x, out_dir, index, report, "failed",
                          "run " + f.planned->directory() +
                              " records no accountant history (summary.json privacy.history): "
                              "its cost is unknown, so no epsilon of the selection is reported");
    }
  }
  const auto* best = select_best(t, done);
  if (best == nullptr) {
    return no_selection(x, out_dir, index, report, "failed",
                        "no run has a validation row with metric '" + t.metric + "'");
  }
  const auto write = [&] {
    util::write_file_atomically(out_dir / "tuning.json", dump_json(report));
  };
  const double eps = selection_epsilon(t, done, source, delta, report);
  report["status"] = "completed";
  report["selected"] = best->planned->directory();
  report["selected_metric"] = *best->metric;
  report["epsilon_of_selected"] = number_or_null(eps);
  json runs = json::array();
  for (const auto& f : done) {
    const json fields = {{"selected", &f == best},
                         {"epsilon_of_selected", number_or_null(eps)},
                         {"validation_" + t.metric, f.metric ? json(*f.metric) : json(nullptr)}};
    index.update(f.planned->directory(), fields);
    runs.push_back({{"directory", f.planned->directory()},
                    {"epsilon", f.summary.value("epsilon", json(nullptr))},
                    {"validation_" + t.metric, fields["validation_" + t.metric]}});
  }
  report["runs"] = runs;
  write();
  util::log::info(util::cat("tuning: selected ", best->planned->directory(), " (val ", t.metric,
                            " ", *best->metric, "); epsilon of releasing it ", eps));
}

}  // namespace dpsgd::experiment
