#include "dpsgd/experiment/run_selection.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

bool parse_int(const std::string& text, int& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || v < 0 || v > 1000000) return false;
  out = static_cast<int>(v);
  return true;
}

std::string valid_ids(const std::vector<Planned>& planned) {
  std::string out;
  for (const auto& p : planned) out += (out.empty() ? "" : ", ") + p.directory();
  return out;
}

// What distinguishes a run from the others of its experiment, in a few fields.
json settings_json(const Planned& p) {
  const auto resolved = config::run_config_json(*p.config, p.plan.sigma);
  json s = {{"model", resolved["model"]["name"]},
            {"epochs", resolved["train"]["epochs"]},
            {"batch_size", resolved["train"]["batch_size"]},
            {"lr", resolved["train"]["optimizer"]["lr"]},
            {"seed", resolved["seed"]},
            {"private", p.config->privacy.enabled}};
  if (resolved["head"].is_object() && resolved["head"].contains("method")) {
    s["head"] = resolved["head"]["method"];
  }
  if (p.config->privacy.enabled) {
    s["noise_multiplier"] = p.plan.sigma;
    s["clipping"] = resolved["privacy"]["clipping"];
    s["target_epsilon"] = p.plan.target_epsilon ? json(*p.plan.target_epsilon) : json(nullptr);
    s["step_limit"] = p.plan.step_limit ? json(*p.plan.step_limit) : json(nullptr);
  }
  return s;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  Shard s;
  if (slash == std::string::npos || !parse_int(text.substr(0, slash), s.index) ||
      !parse_int(text.substr(slash + 1), s.count) || s.count < 1 || s.index >= s.count) {
    throw util::UserError("--shard '" + text +
                          "': expected I/N with 0 <= I < N (e.g. --shard "
                          "\"$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT\")");
  }
  return s;
}

std::vector<Planned> select_runs(const std::vector<Planned>& planned,
                                 const std::vector<std::string>& only,
                                 const std::optional<Shard>& shard) {
  for (const auto& id : only) {
    const bool known = std::any_of(planned.begin(), planned.end(),
                                   [&](const Planned& p) { return p.directory() == id; });
    if (!known) {
      throw util::UserError("--only '" + id + "': no such run in this experiment; its runs are " +
                            valid_ids(planned) + " (dpsgd-run plan lists them)");
    }
  }
  std::vector<Planned> named;
  for (const auto& p : planned) {
    if (only.empty() || std::find(only.begin(), only.end(), p.directory()) != only.end()) {
      named.push_back(p);
    }
  }
  if (!shard) return named;
  // Shards split the runs --only left, so N shards of them stay even.
  std::vector<Planned> out;
  for (std::size_t i = 0; i < named.size(); ++i) {
    if (static_cast<int>(i % static_cast<std::size_t>(shard->count)) == shard->index) {
      out.push_back(named[i]);
    }
  }
  return out;
}

json plan_json(const Experiment& x) {
  const auto& first = x.configs.front();
  json runs = json::array();
  for (const auto& p : x.planned) {
    runs.push_back(
        {{"id", p.directory()},
         {"run_id", p.plan.id},
         {"variant", p.config->variant.empty() ? json(nullptr) : json(p.config->variant)},
         {"settings", settings_json(p)}});
  }
  return {{"experiment", first.name},
          {"config", std::filesystem::absolute(first.source).string()},
          {"run_count", runs.size()},
          {"runs", runs}};
}

}  // namespace dpsgd::experiment
