// The only file that includes ProcessGroupGloo.hpp (see process_group_factory.hpp).
#include <cstdlib>

#include "dpsgd/distributed/backends/process_group_factory.hpp"
#include "dpsgd/util/error.hpp"

#if defined(DPSGD_HAVE_GLOO)
#define USE_C10D_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

namespace dpsgd::distributed {

bool gloo_available() {
#if defined(DPSGD_HAVE_GLOO)
  return true;
#else
  return false;
#endif
}

c10::intrusive_ptr<c10d::Backend> make_gloo_group(const c10::intrusive_ptr<c10d::Store>& store,
                                                  int rank, int world_size,
                                                  std::chrono::milliseconds timeout) {
#if defined(DPSGD_HAVE_GLOO)
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch; otherwise
  // the address this host's name resolves to.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(ifname != nullptr && *ifname != '\0'
                                 ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                 : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
#else
  (void)store;
  (void)rank;
  (void)world_size;
  (void)timeout;
  throw util::UserError(
      "this dpsgd-run was built without Gloo (the gloo/*.h headers were not found): install "
      "libgloo-dev (scripts/install-deps.sh does) and rebuild, or use DPSGD_DIST_BACKEND=nccl "
      "on CUDA");
#endif
}

}  // namespace dpsgd::distributed
