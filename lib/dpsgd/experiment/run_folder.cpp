#include "dpsgd/experiment/run_folder.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::experiment {

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

}  // namespace dpsgd::experiment
