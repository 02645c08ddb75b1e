#pragma once
// Run identifiers of a sweep: "sigma-<value>" for private runs, "nonprivate" else.
#include <string>

namespace dpsgd::experiment {

std::string make_run_id(bool private_run, double sigma);

}  // namespace dpsgd::experiment
