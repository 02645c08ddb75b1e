#pragma once
// A short description of the machine a run used, for summary.json and benchmark
// reports (timings are only comparable on the same machine).
#include <string>

#include <torch/types.h>

namespace dpsgd::util {

/// e.g. "AMD EPYC 7B13, 2 threads" or "NVIDIA H100 80GB HBM3 (cuda:0)".
std::string machine_description(const torch::Device& device);

}  // namespace dpsgd::util
