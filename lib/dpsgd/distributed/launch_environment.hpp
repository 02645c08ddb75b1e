#pragma once
// Who this process is in a multi-process run, read from the environment the
// launcher sets, the way PyTorch programs read it:
//   torchrun (and torch.distributed.launch): RANK, WORLD_SIZE, LOCAL_RANK,
//     MASTER_ADDR, MASTER_PORT;
//   Slurm's srun, when RANK is absent: SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
//     with MASTER_ADDR and MASTER_PORT exported by the batch script.
// No WORLD_SIZE (and no multi-task srun step): one process, nothing to connect.
// DPSGD_DIST_TIMEOUT_S bounds how long a collective waits for a silent peer
// (default 600 s); DPSGD_DIST_BACKEND (gloo or nccl) overrides the backend the
// device implies (NCCL for CUDA, Gloo for the CPU).
#include <chrono>
#include <optional>
#include <string>

namespace dpsgd::distributed {

enum class BackendKind { kGloo, kNccl };

struct LaunchEnvironment {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  std::chrono::seconds timeout{600};
  std::optional<BackendKind> backend;  ///< DPSGD_DIST_BACKEND; nullopt: from the device
  std::string launcher;                ///< "torchrun", "srun" or "single"
};

/// Reads the environment; throws util::UserError naming the variable and its
/// value when one is missing or malformed (a rank outside [0, WORLD_SIZE), no
/// MASTER_ADDR, a port outside 1..65535).
LaunchEnvironment read_launch_environment();

/// "gloo" or "nccl".
const char* backend_name(BackendKind kind);

}  // namespace dpsgd::distributed
