#include "dpsgd/experiment/run_experiment.hpp"

#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/experiment/run_index.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/experiment/run_summary.hpp"
#include "dpsgd/train/run_status.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/file_lock.hpp"
#include "dpsgd/util/host_allocator.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/stop_signal.hpp"
#include <unistd.h>

namespace dpsgd::experiment {

torch::Device resolve_device(config::DeviceChoice choice) {
  switch (choice) {
    case config::DeviceChoice::kCpu:
      return torch::kCPU;
    case config::DeviceChoice::kCuda:
      if (!torch::cuda::is_available()) {
        throw util::UserError("device 'cuda' was asked for, but LibTorch sees no CUDA device");
      }
      return {torch::kCUDA, 0};
    case config::DeviceChoice::kAuto:
      break;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

namespace {

using nlohmann::json;
using train::RunStatus;

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return in ? json::parse(in, nullptr, /*allow_exceptions=*/false) : json();
}

// The status a run folder's summary.json records (nullopt: no run there yet).
std::optional<RunStatus> recorded_status(const std::filesystem::path& run_dir) {
  const auto summary = read_json_file(summary_path(run_dir));
  if (!summary.is_object() || !summary.contains("status") || !summary["status"].is_string()) {
    return std::nullopt;
  }
  return train::parse_status(summary["status"].get<std::string>());
}

// A run folder belongs to the config it was written with: resuming its checkpoint
// under a changed config would splice two different runs, and skipping it as
// finished would report results of another config. Output timings may change;
// which columns metrics.json holds may not.
void check_resumable(const Planned& p, const std::filesystem::path& run_dir) {
  const auto file = run_dir / "config.yaml";
  json saved;
  try {
    const auto c = config::load_experiment_variants(file).front();
    saved = config::run_config_json(c, c.privacy.enabled ? c.privacy.noise_multipliers.at(0) : 0.0);
  } catch (const util::UserError&) {
    saved = json();  // unreadable: not the config of this plan
  }
  saved["variant"] = p.config->variant;  // the run's own config.yaml names no variant
  auto now = config::run_config_json(*p.config, p.plan.sigma);
  now["variant"] = p.config->variant;
  for (auto* doc : {&saved, &now}) {
    if (!doc->contains("output")) continue;
    for (const char* key : {"flush_every_s", "log_every_s", "checkpoint_every_s"}) {
      (*doc)["output"].erase(key);
    }
  }
  if (saved != now) {
    throw util::UserError(util::cat(
        (run_dir / "config.yaml").string(), ": run '", p.directory(),
        "' was written by a different configuration; rerun with --restart to start it over, "
        "or write to another folder with --out"));
  }
}

// Whether a run folder holds something a rerun would keep: a finished run or a
// checkpoint to resume.
bool has_results(const std::filesystem::path& run_dir, const std::optional<RunStatus>& status) {
  return (status && train::is_final(*status)) || std::filesystem::exists(checkpoint_path(run_dir));
}

json index_row(const Planned& p) {
  const auto& c = *p.config;
  json row = {{"run_id", p.plan.id},
              {"directory", p.directory()},
              {"noise_multiplier", c.privacy.enabled ? json(p.plan.sigma) : json(nullptr)},
              {"status", "pending"}};
  if (!c.variant.empty()) row["variant"] = c.variant;
  if (p.plan.target_epsilon) row["target_epsilon"] = *p.plan.target_epsilon;
  return row;
}

json outcome_fields(const json& summary) {
  json fields = {{"status", summary.value("status", "failed")}};
  for (const char* key : {"final_test", "epsilon", "total_time_s"}) {
    if (summary.contains(key)) fields[key] = summary[key];
  }
  fields["error"] = nullptr;
  return fields;
}

enum class Outcome { kDone, kSkipped, kFailed, kInterrupted };

struct Session {
  const Experiment& x;
  RunIndex& index;
  const torch::Device& device;
  const std::filesystem::path& out_dir;
  bool restart;
};

// Trains one claimed run and records how it ended.
Outcome train_claimed(const Session& s, const Planned& p, const std::filesystem::path& run_dir) {
  const std::string label = p.directory();
  if (s.restart) {
    for (const auto& f : {checkpoint_path(run_dir), summary_path(run_dir), model_path(run_dir)}) {
      std::filesystem::remove(f);
    }
  }
  const bool resume = std::filesystem::exists(checkpoint_path(run_dir));
  s.index.update(label, {{"status", "running"}, {"pid", static_cast<long>(::getpid())}});
  try {
    const auto summary = run_one(*p.config, p.plan, s.x.loaded[p.data], s.device, run_dir, resume);
    s.index.update(label, outcome_fields(summary));
    const std::string status = summary["status"];
    util::log::info(util::cat("run ", label, " ", status, ": test ", summary["final_test"].dump(),
                              p.config->privacy.enabled
                                  ? util::cat(", epsilon ", summary["epsilon"].dump())
                                  : std::string()));
    if (status == "interrupted") return Outcome::kInterrupted;
    return status == "diverged" ? Outcome::kFailed : Outcome::kDone;
  } catch (const c10::Error& e) {
    s.index.update(label, {{"status", "failed"}, {"error", e.what_without_backtrace()}});
    util::log::error(util::cat("run ", label, " failed: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    s.index.update(label, {{"status", "failed"}, {"error", e.what()}});
    util::log::error(util::cat("run ", label, " failed: ", e.what()));
  }
  util::write_file_atomically(summary_path(run_dir),
                              dump_json({{"schema_version", kSummarySchemaVersion},
                                         {"run_id", p.plan.id},
                                         {"status", "failed"}}));
  return Outcome::kFailed;
}

// Runs one planned run unless it is finished or another process holds it.
Outcome execute(const Session& s, const Planned& p) {
  const std::string label = p.directory();
  const auto run_dir = s.out_dir / label;
  std::filesystem::create_directories(run_dir);
  const auto claim = util::FileLock::try_acquire(run_dir / ".claim");
  if (!claim.held()) {
    util::log::info(util::cat("run ", label, ": being trained by another process; skipped"));
    return Outcome::kSkipped;
  }
  const auto status = recorded_status(run_dir);
  // Checked again now that the folder is ours: another process may have written it
  // since the check at start-up.
  if (!s.restart && has_results(run_dir, status)) check_resumable(p, run_dir);
  if (!s.restart && status && train::is_final(*status)) {
    util::log::info(util::cat("run ", label, ": already ", train::status_name(*status),
                              "; skipped (--restart runs it again)"));
    s.index.update(label, outcome_fields(read_json_file(summary_path(run_dir))));
    return Outcome::kSkipped;
  }
  return train_claimed(s, p, run_dir);
}

// Before any training: which runs resume, and whether their checkpoints fit.
void check_resumes(const Experiment& x, const std::filesystem::path& out_dir, bool restart) {
  if (restart) return;
  for (const auto& p : x.planned) {
    const auto run_dir = out_dir / p.directory();
    if (has_results(run_dir, recorded_status(run_dir))) check_resumable(p, run_dir);
  }
}

}  // namespace

int run_experiment(const ExperimentRequest& request) {
  util::tune_host_allocator();
  util::install_stop_handlers();
  Experiment x;
  // Every variant is parsed (and so checked) before the first run starts.
  x.configs =
      config::load_experiment_variants(request.config_path, request.overrides, request.variants);
  const auto& first = x.configs.front();
  const auto device = resolve_device(request.device.value_or(first.device));
  const std::filesystem::path out_dir =
      request.out_dir.value_or(std::filesystem::path("results") / first.name);
  std::filesystem::create_directories(out_dir);
  load_and_plan(x, device);
  check_resumes(x, out_dir, request.restart);
  util::log::info(util::cat(
      "experiment '", first.name, "': ", x.planned.size(), " run(s)",
      x.configs.size() > 1 ? util::cat(" in ", x.configs.size(), " variants") : std::string(),
      " on ", device.str(), ", output in ", out_dir.string()));
  RunIndex index(out_dir, {{"schema_version", kSummarySchemaVersion},
                           {"experiment", first.name},
                           {"config", std::filesystem::absolute(first.source).string()}});
  std::vector<json> rows;
  for (const auto& p : x.planned) rows.push_back(index_row(p));
  index.add_missing(rows);
  const Session session{x, index, device, out_dir, request.restart};
  int failures = 0;
  for (const auto& p : x.planned) {
    if (util::stop_requested() != 0) break;
    const auto outcome = execute(session, p);
    if (outcome == Outcome::kFailed) ++failures;
    if (outcome == Outcome::kInterrupted) break;
  }
  if (const int signal = util::stop_requested()) {
    util::log::info(util::cat("stopped by signal ", signal,
                              "; rerun the same command to resume from the checkpoints"));
    return util::exit_code_for_signal(signal);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace dpsgd::experiment
