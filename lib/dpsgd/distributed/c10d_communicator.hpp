#pragma once
// Communicator over c10d: rendezvous through a TCPStore (rank 0 serves it at
// MASTER_ADDR:MASTER_PORT, as torchrun's static rendezvous does), then one
// process group. Sums go through one flat buffer per call (c10d all-reduces
// one tensor per call efficiently; the parameters' many small tensors would
// each cost a round trip). With Gloo on CUDA tensors the buffer is staged
// through host memory.
#include <memory>

#include "dpsgd/distributed/communicator.hpp"
#include "dpsgd/distributed/launch_environment.hpp"

namespace dpsgd::distributed {

std::unique_ptr<Communicator> make_c10d_communicator(const LaunchEnvironment& env, BackendKind kind,
                                                     const torch::Device& device);

}  // namespace dpsgd::distributed
