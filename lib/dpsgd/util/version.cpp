#include "dpsgd/util/version.hpp"

#include <torch/headeronly/version.h>

#include "dpsgd/util/build_info.hpp"

namespace dpsgd::util {

std::string libtorch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

std::string version_line() {
  return std::string("dpsgd ") + kVersion + " (commit " + kGitCommit + "), LibTorch " +
         libtorch_version();
}

}  // namespace dpsgd::util
