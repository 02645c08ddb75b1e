#pragma once
// Which of an experiment's planned runs this process trains, so that a sweep
// can be spread over a scheduler's tasks (a Slurm job array, xargs -P, one
// process per GPU) that all write into the one experiment folder (run folders
// are claimed under a lock and index.json is merged under a lock: run_index.hpp).
//   --only ID    the runs named (ID: the run's folder below the experiment
//                folder, `<run-id>` or `<variant>/<run-id>`, as `dpsgd-run plan`
//                prints it); an unknown ID is an error that lists the valid ones.
//   --shard I/N  of those runs (all, or the --only ones), the ones at positions
//                p with p mod N = I (0 <= I < N): N shards partition them, whatever N.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dpsgd/experiment/experiment_plan.hpp"

namespace dpsgd::experiment {

struct Shard {
  int index = 0;
  int count = 1;
};

/// Parses "I/N"; throws util::UserError for anything but 0 <= I < N.
Shard parse_shard(const std::string& text);

/// The planned runs selected by `only` (empty: all) and `shard`, in plan order.
/// Throws util::UserError for an ID that names no planned run.
std::vector<Planned> select_runs(const std::vector<Planned>& planned,
                                 const std::vector<std::string>& only,
                                 const std::optional<Shard>& shard);

/// The plan as `dpsgd-run plan` prints it: the experiment's name and config,
/// and per run its id (folder), run id, variant and settings.
nlohmann::json plan_json(const Experiment& x);

}  // namespace dpsgd::experiment
