#pragma once
// The collectives a multi-process run needs: sums and broadcasts of tensors,
// plus a way to tell the other processes why this one failed. Two
// implementations: one process (nothing to exchange), and c10d, PyTorch's own
// distributed layer (c10d_communicator.hpp: NCCL for CUDA tensors, Gloo for CPU
// tensors, rendezvous through a TCPStore). Every process must call the same
// collectives in the same order with tensors of the same shapes and dtypes;
// the training loop guarantees that by taking every step on every process,
// also with an empty local share of the batch.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/distributed/launch_environment.hpp"

namespace dpsgd::distributed {

class Communicator {
 public:
  virtual ~Communicator() = default;
  [[nodiscard]] virtual int rank() const = 0;
  [[nodiscard]] virtual int world_size() const = 0;
  [[nodiscard]] bool is_leader() const { return rank() == 0; }
  /// "none" for one process, else the c10d backend ("gloo", "nccl").
  [[nodiscard]] virtual std::string backend() const = 0;

  /// Replaces every tensor by its elementwise sum over all processes, in place.
  /// All tensors of one call share one dtype and device.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  /// Replaces every tensor by process `root`'s, in place.
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;

  /// Records why this process is about to fail, for the others to read (the
  /// leader puts it in the run's summary) before their next collective fails.
  virtual void report_failure(const std::string& reason) = 0;
  /// The first failure a process reported, if any (and if it can still be read).
  [[nodiscard]] virtual std::optional<std::string> failure_reason() = 0;
};

/// One process: sums and broadcasts leave the tensors as they are.
std::unique_ptr<Communicator> single_process();

/// One process when `env` says so; else connects to the others: a TCPStore at
/// MASTER_ADDR:MASTER_PORT (rank 0 serves it), then the backend the device
/// implies (NCCL for CUDA, Gloo for the CPU) unless env.backend names one.
/// Throws util::UserError when the build lacks that backend.
std::unique_ptr<Communicator> connect(const LaunchEnvironment& env, const torch::Device& device);

}  // namespace dpsgd::distributed
