#pragma once
// Variable-length exchanges built on the fixed-shape collectives: each process
// learns the lengths first, then every process passes tensors of one shape.
#include <torch/torch.h>

#include "dpsgd/distributed/communicator.hpp"

namespace dpsgd::distributed {

/// `root`'s 1-D int64 CPU tensor on every process (other processes' argument is ignored).
torch::Tensor broadcast_indices(Communicator& comm, const torch::Tensor& on_root, int root);

/// Every process's 1-D tensor concatenated in rank order, on every process
/// (float64 on the local tensor's device).
torch::Tensor gather_concat(Communicator& comm, const torch::Tensor& local);

/// This process's share of a batch: the contiguous block
/// [rank * B / W, (rank + 1) * B / W) of its B entries, so the shares partition
/// the batch and differ in size by at most one (a share may be empty).
torch::Tensor local_share(const torch::Tensor& batch, int rank, int world_size);
/// Where that share starts: rank * B / W.
std::int64_t share_begin(std::int64_t batch_size, int rank, int world_size);

}  // namespace dpsgd::distributed
