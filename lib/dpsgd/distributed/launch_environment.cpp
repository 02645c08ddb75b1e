#include "dpsgd/distributed/launch_environment.hpp"

#include <cstdlib>
#include <string>

#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::distributed {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// An integer environment variable in [low, high], or a UserError naming it.
int env_int(const char* name, const std::string& text, long low, long high) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || v < low || v > high) {
    throw util::UserError(util::cat("environment variable ", name, "='", text,
                                    "': expected an integer in [", low, ", ", high,
                                    "] (set by torchrun or srun; see README, Scale-out)"));
  }
  return static_cast<int>(v);
}

std::string required(const char* name, const std::string& launcher) {
  auto v = env(name);
  if (!v) {
    throw util::UserError(
        util::cat("environment variable ", name, " is not set, but ", launcher,
                  " started several processes: export it (torchrun sets it; under srun, export "
                  "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1) and "
                  "MASTER_PORT)"));
  }
  return *v;
}

void read_options(LaunchEnvironment& e) {
  if (const auto t = env("DPSGD_DIST_TIMEOUT_S")) {
    e.timeout = std::chrono::seconds(env_int("DPSGD_DIST_TIMEOUT_S", *t, 1, 86400));
  }
  if (const auto b = env("DPSGD_DIST_BACKEND")) {
    if (*b == "gloo") {
      e.backend = BackendKind::kGloo;
    } else if (*b == "nccl") {
      e.backend = BackendKind::kNccl;
    } else {
      throw util::UserError("environment variable DPSGD_DIST_BACKEND='" + *b +
                            "': valid values are gloo, nccl");
    }
  }
}

}  // namespace

const char* backend_name(BackendKind kind) { return kind == BackendKind::kNccl ? "nccl" : "gloo"; }

LaunchEnvironment read_launch_environment() {
  LaunchEnvironment e;
  const char* rank_var = "RANK";
  const char* size_var = "WORLD_SIZE";
  const char* local_var = "LOCAL_RANK";
  e.launcher = "torchrun";
  if (!env("WORLD_SIZE") && env("SLURM_STEP_NUM_TASKS") && env("SLURM_PROCID")) {
    rank_var = "SLURM_PROCID";
    size_var = "SLURM_STEP_NUM_TASKS";
    local_var = "SLURM_LOCALID";
    e.launcher = "srun";
  }
  const auto size_text = env(size_var);
  if (!size_text) {
    e.launcher = "single";
    return e;
  }
  e.world_size = env_int(size_var, *size_text, 1, 1 << 20);
  if (e.world_size == 1) {
    e.launcher = "single";
    return e;
  }
  e.rank = env_int(rank_var, required(rank_var, e.launcher), 0, e.world_size - 1);
  const auto local = env(local_var);
  e.local_rank = local ? env_int(local_var, *local, 0, e.world_size - 1) : 0;
  e.master_addr = required("MASTER_ADDR", e.launcher);
  e.master_port = env_int("MASTER_PORT", required("MASTER_PORT", e.launcher), 1, 65535);
  read_options(e);
  e.agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  e.attempt = env("TORCHELASTIC_RESTART_COUNT").value_or("0");
  return e;
}

}  // namespace dpsgd::distributed
