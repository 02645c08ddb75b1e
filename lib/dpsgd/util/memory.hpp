#pragma once
// Peak memory: the CUDA caching allocator's peak on GPU, the process's peak
// resident set (VmHWM) on CPU.
#include <cstdint>

#include <torch/types.h>

namespace dpsgd::util {

/// Peak resident set size of this process in bytes (Linux VmHWM), 0 if unknown.
std::int64_t peak_resident_bytes();

/// Peak bytes allocated on `device` since the last reset (CUDA), else the peak RSS.
std::int64_t peak_memory_bytes(const torch::Device& device);

/// Resets the peak: the CUDA allocator's statistics, or the process's VmHWM on CPU.
void reset_peak_memory(const torch::Device& device);

}  // namespace dpsgd::util
