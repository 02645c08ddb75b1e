#include "dpsgd/util/host_allocator.hpp"

#include <cstdlib>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dpsgd::util {

void tune_host_allocator() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr ||
        std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr ||
        std::getenv("GLIBC_TUNABLES") != nullptr) {
      return;
    }
    // 1 GiB: above any single activation of the workloads here. Blocks that a
    // thread arena cannot hold still come from mmap, which is only slower.
    // Older glibc refuses mmap thresholds above 32 MiB; setting only the trim
    // threshold would then freeze the mmap threshold at its 128 KiB start value
    // (worse than the default), so trim follows only a threshold that took.
    constexpr int kOneGiB = 1 << 30;
    constexpr int k32MiB = 32 << 20;
    if (mallopt(M_MMAP_THRESHOLD, kOneGiB) == 1 || mallopt(M_MMAP_THRESHOLD, k32MiB) == 1) {
      mallopt(M_TRIM_THRESHOLD, kOneGiB);
    }
  });
#endif
}

}  // namespace dpsgd::util
