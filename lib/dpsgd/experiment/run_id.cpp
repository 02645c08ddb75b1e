#include "dpsgd/experiment/run_id.hpp"

#include <cstdio>

namespace dpsgd::experiment {

std::string make_run_id(bool private_run, double sigma) {
  if (!private_run) return "nonprivate";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "sigma-%g", sigma);
  return buffer;
}

}  // namespace dpsgd::experiment
