// The only file that includes ProcessGroupNCCL.hpp (see process_group_factory.hpp).
// NOT YET RUN on a GPU: no session so far was lent one.
#include "dpsgd/distributed/backends/process_group_factory.hpp"
#include "dpsgd/util/error.hpp"

#if defined(DPSGD_HAVE_NCCL)
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace dpsgd::distributed {

bool nccl_available() {
#if defined(DPSGD_HAVE_NCCL)
  return true;
#else
  return false;
#endif
}

c10::intrusive_ptr<c10d::Backend> make_nccl_group(const c10::intrusive_ptr<c10d::Store>& store,
                                                  int rank, int world_size,
                                                  std::chrono::milliseconds timeout) {
#if defined(DPSGD_HAVE_NCCL)
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
#else
  (void)store;
  (void)rank;
  (void)world_size;
  (void)timeout;
  throw util::UserError(
      "this dpsgd-run was built without NCCL (it needs CUDA LibTorch, the CUDA headers and "
      "nccl.h from the nvidia-nccl wheel): rebuild against CUDA LibTorch, or set "
      "DPSGD_DIST_BACKEND=gloo (slower: sums go through host memory)");
#endif
}

}  // namespace dpsgd::distributed
