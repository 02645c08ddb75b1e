#pragma once
// Who this process is in a multi-process run, read from the environment the
// launcher sets, the way PyTorch programs read it:
//   torchrun (and torch.distributed.launch): RANK, WORLD_SIZE, LOCAL_RANK,
//     MASTER_ADDR, MASTER_PORT;
//   Slurm's srun, when WORLD_SIZE is absent: SLURM_PROCID, SLURM_STEP_NUM_TASKS,
//     SLURM_LOCALID (the step's variables: a batch script of a many-task job has
//     SLURM_NTASKS too, but it is one process), with MASTER_ADDR and MASTER_PORT
//     exported by the batch script.
// Under torchrun (TORCHELASTIC_USE_AGENT_STORE=True) the agent already serves the
// TCPStore at MASTER_ADDR:MASTER_PORT, so every rank connects as a client, and
// keys are prefixed with TORCHELASTIC_RESTART_COUNT so a restarted attempt
// reads nothing of the one before.
// No WORLD_SIZE (and no multi-task srun step): one process, nothing to connect.
// DPSGD_DIST_TIMEOUT_S bounds how long a collective waits for a silent peer
// (default 1800 s, PyTorch's: it must outlast the leader's evaluations, which the
// others wait through; a peer that dies is noticed at once, its connections
// close); DPSGD_DIST_BACKEND (gloo or nccl) overrides the backend the
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
  std::chrono::seconds timeout{1800};
  std::optional<BackendKind> backend;  ///< DPSGD_DIST_BACKEND; nullopt: from the device
  std::string launcher;                ///< "torchrun", "srun" or "single"
  bool agent_store = false;            ///< torchrun's agent serves the store
  std::string attempt = "0";           ///< TORCHELASTIC_RESTART_COUNT
};

/// Reads the environment; throws util::UserError naming the variable and its
/// value when one is missing or malformed (a rank outside [0, WORLD_SIZE), no
/// MASTER_ADDR, a port outside 1..65535).
LaunchEnvironment read_launch_environment();

/// "gloo" or "nccl".
const char* backend_name(BackendKind kind);

}  // namespace dpsgd::distributed
