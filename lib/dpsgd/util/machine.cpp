#include "dpsgd/util/machine.hpp"

#include <cstdio>
#include <fstream>
#include <memory>

#include <ATen/Parallel.h>

namespace dpsgd::util {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

// The GPU's name without CUDA headers: ask nvidia-smi, which is present wherever
// the driver is.
std::string gpu_name(int index) {
  const std::string cmd = "nvidia-smi --query-gpu=name --format=csv,noheader -i " +
                          std::to_string(index) + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) return "CUDA GPU";
  char buffer[256] = {0};
  if (std::fgets(buffer, sizeof(buffer), pipe.get()) == nullptr) return "CUDA GPU";
  std::string name(buffer);
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
  return name.empty() ? "CUDA GPU" : name;
}

}  // namespace

std::string machine_description(const torch::Device& device) {
  if (device.is_cuda()) {
    const int index = device.index() < 0 ? 0 : device.index();
    return gpu_name(index) + " (cuda:" + std::to_string(index) + "), host " + cpu_model();
  }
  return cpu_model() + ", " + std::to_string(at::get_num_threads()) + " threads";
}

}  // namespace dpsgd::util
