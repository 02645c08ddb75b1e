#include "dpsgd/experiment/run_experiment.hpp"

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <nlohmann/json.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/distributed/collectives.hpp"
#include "dpsgd/distributed/communicator.hpp"
#include "dpsgd/distributed/launch_environment.hpp"
#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/experiment/run_folder.hpp"
#include "dpsgd/experiment/run_index.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/experiment/run_summary.hpp"
#include "dpsgd/experiment/tuning_report.hpp"
#include "dpsgd/train/replicas.hpp"
#include "dpsgd/train/run_status.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/file_lock.hpp"
#include "dpsgd/util/host_allocator.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/stop_signal.hpp"
#include <unistd.h>

namespace dpsgd::experiment {

torch::Device resolve_device(config::DeviceChoice choice, int index) {
  if (choice == config::DeviceChoice::kCpu) return torch::kCPU;
  if (choice == config::DeviceChoice::kAuto && !torch::cuda::is_available()) return torch::kCPU;
  const auto count = static_cast<int>(torch::cuda::device_count());
  const int wanted = std::max(index, 0);
  if (wanted >= count) {
    throw util::UserError(util::cat(
        "device 'cuda:", wanted, "' was asked for, but LibTorch sees ", count, " CUDA device(s)",
        count > 0 ? util::cat(" (cuda:0 to cuda:", count - 1, ")") : std::string()));
  }
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(wanted)};
}

namespace {

using nlohmann::json;
using train::RunStatus;

json index_row(const Planned& p) {
  const auto& c = *p.config;
  json row = {{"run_id", p.plan.id},
              {"directory", p.directory()},
              {"noise_multiplier", c.privacy.enabled ? json(p.plan.sigma) : json(nullptr)},
              {"status", "pending"}};
  if (!c.variant.empty()) row["variant"] = c.variant;
  if (p.plan.target_epsilon) row["target_epsilon"] = *p.plan.target_epsilon;
  if (!c.sweep_point.empty()) {
    json settings = json::object();
    for (const auto& [key, value] : c.sweep_point) settings[key] = value;
    row["settings"] = settings;
    row["seed"] = c.seed;
  }
  return row;
}

json outcome_fields(const json& summary) {
  json fields = {{"status", summary.value("status", "failed")}};
  for (const char* key : {"final_test", "final_test_ema", "epsilon", "total_time_s"}) {
    if (summary.contains(key)) fields[key] = summary[key];
  }
  fields["error"] = nullptr;
  return fields;
}

enum class Outcome { kDone, kSkipped, kFailed, kInterrupted, kFatal };

struct Session {
  const Experiment& x;
  RunIndex* index;  ///< the leader's; null on the other processes
  const torch::Device& device;
  const std::filesystem::path& out_dir;
  bool restart;
  distributed::Communicator& comm;
};

// What the leader decided about a run, for every process to do the same.
enum class Decision : std::int64_t { kSkip, kFresh, kResume, kLeaderOnly };

Decision share_decision(distributed::Communicator& comm, Decision leaders) {
  if (comm.world_size() == 1) return leaders;
  std::vector<torch::Tensor> code = {torch::full({1}, static_cast<std::int64_t>(leaders))};
  comm.broadcast(code, /*root=*/0);
  return static_cast<Decision>(code.front().item<std::int64_t>());
}

// A process other than the leader: trains the run the leader trains, writes nothing.
Outcome follow(const Session& s, const Planned& p) {
  const auto d = share_decision(s.comm, Decision::kSkip);
  if (d == Decision::kSkip || d == Decision::kLeaderOnly) return Outcome::kSkipped;
  std::string status;
  try {
    status = run_one(*p.config, p.plan, s.x.loaded[p.data], s.device, s.out_dir / p.directory(),
                     d == Decision::kResume, s.comm)["status"];
  } catch (const c10::Error& e) {
    s.comm.report_failure(e.what_without_backtrace());
    throw;
  } catch (const std::exception& e) {
    s.comm.report_failure(e.what());
    throw;
  }
  // Only a stop the processes agreed on ends the loop here; a signal that came
  // after the run's last step is agreed on at the next run (execute).
  return status == "interrupted" ? Outcome::kInterrupted : Outcome::kDone;
}

// The leader's record of a failed run; with several processes the cause may
// be another process's (it reported it before failing).
Outcome record_failure(const Session& s, const Planned& p, const std::filesystem::path& run_dir,
                       const std::string& what, bool alone) {
  const std::string label = p.directory();
  const bool shared = s.comm.world_size() > 1 && !alone;
  const std::string reason = shared ? s.comm.failure_reason().value_or(what) : what;
  s.index->update(label, {{"status", "failed"}, {"error", reason}});
  util::log::error(util::cat("run ", label, " failed: ", reason));
  util::write_file_atomically(summary_path(run_dir),
                              dump_json({{"schema_version", kSummarySchemaVersion},
                                         {"run_id", p.plan.id},
                                         {"status", "failed"},
                                         {"error", reason}}));
  // The processes that trained it together can no longer agree on anything: the
  // experiment stops. (A run rank 0 ran alone, or failed before the others
  // joined it, fails like in one process.)
  return shared ? Outcome::kFatal : Outcome::kFailed;
}

// A claimed run that failed. The others, if still waiting for rank 0's decision,
// are told to skip it; if they never trained it (that, or a closed-form run),
// the failure is this run's alone and the sweep goes on.
Outcome failed_claim(const Session& s, const Planned& p, const std::filesystem::path& run_dir,
                     const std::string& what, bool told, bool closed_form) {
  if (!told) {
    try {
      share_decision(s.comm, Decision::kSkip);
    } catch (const std::exception&) {
      // The others are gone (that may be why it failed): nothing more to agree on.
      return record_failure(s, p, run_dir, what, /*alone=*/false);
    }
  }
  return record_failure(s, p, run_dir, what, /*alone=*/!told || closed_form);
}

// Trains one claimed run and records how it ended.
Outcome train_claimed(const Session& s, const Planned& p, const std::filesystem::path& run_dir) {
  const std::string label = p.directory();
  const bool closed_form = p.config->head.method != config::HeadMethod::kDpSgd;
  bool told = false;  // whether the others heard rank 0's decision
  try {
    if (s.restart) {
      for (const auto& f : {checkpoint_path(run_dir), summary_path(run_dir), model_path(run_dir)}) {
        std::filesystem::remove(f);
      }
    }
    const bool resume = std::filesystem::exists(checkpoint_path(run_dir));
    s.index->update(label, {{"status", "running"}, {"pid", static_cast<long>(::getpid())}});
    share_decision(s.comm, closed_form ? Decision::kLeaderOnly
                           : resume    ? Decision::kResume
                                       : Decision::kFresh);
    told = true;
    const auto summary =
        run_one(*p.config, p.plan, s.x.loaded[p.data], s.device, run_dir, resume, s.comm);
    s.index->update(label, outcome_fields(summary));
    const std::string status = summary["status"];
    util::log::info(util::cat("run ", label, " ", status, ": test ", summary["final_test"].dump(),
                              p.config->privacy.enabled
                                  ? util::cat(", epsilon ", summary["epsilon"].dump())
                                  : std::string()));
    if (status == "interrupted") return Outcome::kInterrupted;
    return status == "diverged" ? Outcome::kFailed : Outcome::kDone;
  } catch (const c10::Error& e) {
    return failed_claim(s, p, run_dir, e.what_without_backtrace(), told, closed_form);
  } catch (const std::exception& e) {
    return failed_claim(s, p, run_dir, e.what(), told, closed_form);
  }
}

// Runs one planned run unless it is finished or another process holds it.
Outcome execute(const Session& s, const Planned& p) {
  // A signal to any process stops them all, with its number.
  if (const int signal = train::agreed_stop_signal(s.comm, util::stop_requested())) {
    util::request_stop(signal);
    return Outcome::kInterrupted;
  }
  if (!s.comm.is_leader()) return follow(s, p);
  const std::string label = p.directory();
  const auto run_dir = s.out_dir / label;
  std::filesystem::create_directories(run_dir);
  const auto claim = util::FileLock::try_acquire(run_dir / ".claim");
  if (!claim.held()) {
    util::log::info(util::cat("run ", label, ": being trained by another process; skipped"));
    share_decision(s.comm, Decision::kSkip);
    return Outcome::kSkipped;
  }
  const auto status = recorded_status(run_dir);
  // Checked again now that the folder is ours: another process may have written it
  // since the check at start-up.
  if (!s.restart && has_results(run_dir, status)) check_resumable(p, run_dir);
  if (!s.restart && status && train::is_final(*status)) {
    util::log::info(util::cat("run ", label, ": already ", train::status_name(*status),
                              "; skipped (--restart runs it again)"));
    s.index->update(label, outcome_fields(read_json_file(summary_path(run_dir))));
    share_decision(s.comm, Decision::kSkip);
    return Outcome::kSkipped;
  }
  return train_claimed(s, p, run_dir);
}

// Before any training: which runs resume, and whether their checkpoints fit.
void check_resumes(const std::vector<Planned>& planned, const std::filesystem::path& out_dir,
                   bool restart) {
  if (restart) return;
  for (const auto& p : planned) {
    const auto run_dir = out_dir / p.directory();
    if (has_results(run_dir, recorded_status(run_dir))) check_resumable(p, run_dir);
  }
}

// Settings whose randomness or structure cannot be split across processes
// (privacy/dp_gradient.hpp, set_reduction), refused before anything starts.
void check_data_parallel(const std::vector<config::ExperimentConfig>& configs) {
  for (const auto& c : configs) {
    const auto where = util::cat(c.source.string(), c.variant.empty() ? "" : " (variant ",
                                 c.variant, c.variant.empty() ? "" : ")");
    if (!c.privacy.enabled) continue;
    if (c.privacy.microbatches > 0) {
      throw util::UserError(where +
                            ": privacy.microbatches cannot be split across processes "
                            "(a microbatch is clipped as a whole); run one process");
    }
    const auto& needs = c.privacy.clipping.needs;
    if (c.privacy.secure_rng && (needs.per_example_count || needs.coordinate_masks)) {
      throw util::UserError(where + ": privacy.clipping.mode '" + c.privacy.clipping.mode +
                            "' with privacy.secure_rng draws OS randomness in every process, "
                            "which would disagree; run one process, or set secure_rng: false");
    }
  }
}

// The device of this process: --device (cuda:N) or the config's; in a
// multi-process run on CUDA without an index, the launcher's LOCAL_RANK. It is
// made the current device, so that anything allocating on "cuda" (NCCL
// included) uses it.
torch::Device process_device(const ExperimentRequest& request,
                             const config::ExperimentConfig& first,
                             const distributed::LaunchEnvironment& launch) {
  const auto choice = request.device.value_or(first.device);
  int index = request.device_index;
  if (index < 0 && launch.world_size > 1 && choice != config::DeviceChoice::kCpu &&
      torch::cuda::is_available()) {
    // srun --gpus-per-task 1 shows each task one device: its cuda:0.
    const auto count = static_cast<int>(torch::cuda::device_count());
    index = launch.local_rank < count ? launch.local_rank : count == 1 ? 0 : -1;
    if (index < 0) {
      throw util::UserError(util::cat("local rank ", launch.local_rank,
                                      " has no CUDA device of its own (", count,
                                      " visible); pass --device cuda:N"));
    }
  }
  const auto device = resolve_device(choice, index);
  if (device.is_cuda()) c10::impl::getDeviceGuardImpl(torch::kCUDA)->setDevice(device);
  return device;
}

void log_start(const Experiment& x, std::size_t selected, const torch::Device& device,
               const std::filesystem::path& out_dir, const distributed::Communicator& comm) {
  const auto& first = x.configs.front();
  util::log::info(util::cat(
      "experiment '", first.name, "': ", selected, " of ", x.planned.size(), " run(s)",
      x.configs.size() > 1 ? util::cat(" in ", x.configs.size(), " variants") : std::string(),
      " on ", device.str(),
      comm.world_size() > 1
          ? util::cat(" (rank ", comm.rank(), " of ", comm.world_size(), ", ", comm.backend(), ")")
          : std::string(),
      ", output in ", out_dir.string()));
}

// index.json with a row for every planned run (not only the selected ones: the
// other shards' runs show as pending until their shard gets to them).
RunIndex open_index(const Experiment& x, const std::filesystem::path& out_dir) {
  const auto& first = x.configs.front();
  RunIndex index(out_dir, {{"schema_version", kSummarySchemaVersion},
                           {"experiment", first.name},
                           {"config", std::filesystem::absolute(first.source).string()}});
  std::vector<json> rows;
  for (const auto& p : x.planned) rows.push_back(index_row(p));
  index.add_missing(rows);
  return index;
}

int run_selected(const Session& session, const std::vector<Planned>& selected) {
  int failures = 0;
  for (const auto& p : selected) {
    const auto outcome = execute(session, p);
    if (outcome == Outcome::kFailed || outcome == Outcome::kFatal) ++failures;
    if (outcome == Outcome::kInterrupted || outcome == Outcome::kFatal) break;
  }
  if (const int signal = util::stop_requested()) {
    util::log::info(util::cat("stopped by signal ", signal,
                              "; rerun the same command to resume from the checkpoints"));
    return util::exit_code_for_signal(signal);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int run_experiment(const ExperimentRequest& request) {
  util::tune_host_allocator();
  util::install_stop_handlers();
  const auto launch = distributed::read_launch_environment();
  Experiment x;
  // Every variant is parsed (and so checked) before the first run starts.
  x.configs =
      config::load_experiment_variants(request.config_path, request.overrides, request.variants);
  if (launch.world_size > 1) check_data_parallel(x.configs);
  const auto& first = x.configs.front();
  const auto device = process_device(request, first, launch);
  const std::filesystem::path out_dir =
      request.out_dir.value_or(std::filesystem::path("results") / first.name);
  const auto comm = distributed::connect(launch, device);
  const bool leader = comm->is_leader();
  if (leader) std::filesystem::create_directories(out_dir);
  load_and_plan(x, device);
  check_tuning(x, {request.config_path, request.overrides});
  const auto selected = select_runs(x.planned, request.only, request.shard);
  // On every process, so that all of them stop alike on a checkpoint of another config.
  check_resumes(selected, out_dir, request.restart);
  log_start(x, selected.size(), device, out_dir, *comm);
  std::optional<RunIndex> index;
  if (leader) index.emplace(open_index(x, out_dir));
  const Session session{x, index ? &*index : nullptr, device, out_dir, request.restart, *comm};
  const int code = run_selected(session, selected);
  // Also after a failure: tuning.json then says no selection was made.
  if (index) report_tuning(x, {request.config_path, request.overrides}, out_dir, *index);
  return code;
}

json plan_experiment(const ExperimentRequest& request) {
  Experiment x;
  x.configs =
      config::load_experiment_variants(request.config_path, request.overrides, request.variants);
  load_and_plan(x, torch::kCPU);
  x.planned = select_runs(x.planned, request.only, request.shard);
  return plan_json(x);
}

}  // namespace dpsgd::experiment
