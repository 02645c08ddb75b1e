#pragma once
// One run in its folder OUT/<run>: config.yaml (the resolved config), metrics.json,
// checkpoint.pt (the whole resumable state: at every epoch end, every
// output.checkpoint_every_s and on SIGINT/SIGTERM/SIGHUP), summary.json, and for a
// run that reached its end (completed, or budget_exhausted) model.pt, the final
// weights as a name -> tensor dict that Python's torch.load reads.
// A run with a checkpoint.pt resumes from it and ends exactly as the
// uninterrupted run would have (same weights and metrics rows, on CPU).
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/distributed/communicator.hpp"
#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/train/trainer.hpp"

namespace dpsgd::experiment {

/// The model, objective, optimizer, schedule and private step of a run, the
/// model initialised from the run's seed (util::SeedStream::kModelInit).
train::TrainParts build_parts(const config::ExperimentConfig& c, const LoadedData& data,
                              double sigma, const torch::Device& device);

/// Trains (or resumes, when `resume`) one run into `run_dir`; returns its summary.
/// With several processes (`comm`), every process calls this for the same run;
/// the leader writes the folder and returns the summary, the others write
/// nothing (they read checkpoint.pt to resume: the folder must be shared) and
/// return only {"status": ...}.
/// What an audit changes in a run (experiment/audit_run.hpp); empty for every other run.
struct AuditHooks {
  /// Gradient canaries, handed to the private step (privacy/injected_examples.hpp).
  std::shared_ptr<privacy::InjectedExamples> injected;
  /// A reference run's initial weights: another run's (public) initialisation,
  /// loaded over the model built from this run's own seed.
  const std::map<std::string, torch::Tensor>* initial_weights = nullptr;
};
nlohmann::json run_one(const config::ExperimentConfig& c, const RunPlan& plan,
                       const LoadedData& data, const torch::Device& device,
                       const std::filesystem::path& run_dir, bool resume,
                       distributed::Communicator& comm, const AuditHooks& hooks = {});

/// The files of a run folder.
inline std::filesystem::path checkpoint_path(const std::filesystem::path& run_dir) {
  return run_dir / "checkpoint.pt";
}
inline std::filesystem::path model_path(const std::filesystem::path& run_dir) {
  return run_dir / "model.pt";
}
/// The weight average's state dict (train.ema), next to model.pt.
inline std::filesystem::path model_ema_path(const std::filesystem::path& run_dir) {
  return run_dir / "model_ema.pt";
}
inline std::filesystem::path summary_path(const std::filesystem::path& run_dir) {
  return run_dir / "summary.json";
}

}  // namespace dpsgd::experiment
