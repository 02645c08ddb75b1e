#pragma once
// The c10d process groups dpsgd can create. Each lives in its own translation
// unit, the only one that defines the macro its torch header needs
// (USE_C10D_GLOO, USE_C10D_NCCL), so a build without a backend's headers still
// compiles and says at run time what is missing.
//   Gloo: the torch wheel ships ProcessGroupGloo.hpp and exports its symbols,
//     but not the gloo/*.h headers it includes; Debian's libgloo-dev provides
//     them (only the headers are used: the code is torch's own gloo, already
//     linked into libtorch_cpu, so the system libgloo is never linked).
//   NCCL: ProcessGroupNCCL.hpp, CUDA's headers and nccl.h (the nvidia-nccl
//     wheel torch depends on); built only against CUDA LibTorch.
#include <chrono>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

namespace dpsgd::distributed {

/// Whether this build can create a Gloo (NCCL) process group.
bool gloo_available();
bool nccl_available();

/// Throws util::UserError when the backend was not compiled in.
c10::intrusive_ptr<c10d::Backend> make_gloo_group(const c10::intrusive_ptr<c10d::Store>& store,
                                                  int rank, int world_size,
                                                  std::chrono::milliseconds timeout);
/// The current CUDA device must already be this process's device.
c10::intrusive_ptr<c10d::Backend> make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store,
                                                  int rank, int world_size,
                                                  std::chrono::milliseconds timeout);

}  // namespace dpsgd::distributed
