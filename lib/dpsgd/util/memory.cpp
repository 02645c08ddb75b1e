#include "dpsgd/util/memory.hpp"

#include <torch/version.h>

// The device-generic allocator interface arrived in LibTorch 2.9; older builds
// (the Debian 1.13 fallback) report the resident set instead.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
#include <c10/core/CachingDeviceAllocator.h>
#define DPSGD_HAVE_DEVICE_ALLOCATOR 1
#endif

#include <fstream>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dpsgd::util {

std::int64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      std::int64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
    std::string rest;
    std::getline(status, rest);
  }
  return 0;
}

std::int64_t peak_memory_bytes(const torch::Device& device) {
#ifdef DPSGD_HAVE_DEVICE_ALLOCATOR
  if (device.is_cuda()) {
    auto* allocator = c10::getDeviceAllocator(device.type());
    const auto stats = allocator->getDeviceStats(device.index() < 0 ? 0 : device.index());
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)]
        .peak;
  }
#endif
  return peak_resident_bytes();
}

void reset_peak_memory(const torch::Device& device) {
#ifdef DPSGD_HAVE_DEVICE_ALLOCATOR
  if (device.is_cuda()) {
    c10::getDeviceAllocator(device.type())->resetPeakStats(device.index() < 0 ? 0 : device.index());
  }
#endif
  if (device.is_cpu()) {
#if defined(__GLIBC__)
    // The tuned allocator (host_allocator.hpp) keeps freed blocks resident; hand
    // them back first, so the next peak is what is live from here on, not what an
    // earlier phase left in the heap.
    malloc_trim(0);
#endif
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    std::ofstream clear("/proc/self/clear_refs");
    if (clear) clear << "5";
  }
}

}  // namespace dpsgd::util
