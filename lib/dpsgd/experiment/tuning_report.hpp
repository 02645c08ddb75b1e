#pragma once
// The privacy of tuning (config `tuning:`): after the runs of a sweep finish,
// the run with the best validation metric is selected and OUT/tuning.json
// reports what releasing only it costs (tuning/selection_privacy.hpp); each
// index.json row gets `selected` and `epsilon_of_selected` beside its own
// epsilon. With every point run once (a fixed grid or fixed draws) the cost is
// the composition of all runs; with a random number of trials (Papernot and
// Steinke 2022) it is their bound over the trial mechanism, whose RDP is the
// largest of every point the trials could have drawn (computed from each
// point's planned sigma, q and steps, so also for points not drawn).
// The validation split is read by the selection and is not covered by any
// epsilon here: it must be public, or held out and treated as such.
#include <filesystem>
#include <string>
#include <vector>

#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/experiment/run_index.hpp"

namespace dpsgd::experiment {

/// Where the candidate points of a random-trials tuning come from: the
/// experiment file loaded without its tuning block (so its whole grid).
struct CandidateSource {
  std::filesystem::path config_path;
  std::vector<std::string> overrides;
};

/// Refuses (util::UserError) what the analysis cannot cover: runs that are not
/// DP-SGD or not private, no validation split, different deltas, and (random
/// trials) a grid point that does not load and plan.
void check_tuning(const Experiment& x, const CandidateSource& source);

/// Writes OUT/tuning.json and the index rows' selection fields: "incomplete"
/// (no selection) while some run has not finished or failed, "failed" when a
/// run's privacy cost cannot be read.
void report_tuning(const Experiment& x, const CandidateSource& source,
                   const std::filesystem::path& out_dir, RunIndex& index);

}  // namespace dpsgd::experiment
