#pragma once
// A run folder's recorded state, read before a run starts: its status, whether
// it holds results (a final summary or a checkpoint), and whether it belongs to
// the configuration about to run (resuming or skipping a folder written by
// another configuration would splice or misreport runs).
#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/train/run_status.hpp"

namespace dpsgd::experiment {

/// The JSON document in `path`; null when the file is missing or not JSON (a
/// run folder may hold a half-written or foreign file: callers treat it as absent).
nlohmann::json read_json_file(const std::filesystem::path& path);

/// The status summary.json records (nullopt: no run there yet).
std::optional<train::RunStatus> recorded_status(const std::filesystem::path& run_dir);

/// Throws util::UserError unless config.yaml in `run_dir` is `p`'s configuration
/// (output timings aside).
void check_resumable(const Planned& p, const std::filesystem::path& run_dir);

/// A final status, or a checkpoint to resume.
bool has_results(const std::filesystem::path& run_dir,
                 const std::optional<train::RunStatus>& status);

}  // namespace dpsgd::experiment
