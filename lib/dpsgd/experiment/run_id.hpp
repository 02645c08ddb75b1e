#pragma once
// Run identifiers of a sweep: "sigma-<value>" or "eps-<value>" for private
// runs, "nonprivate" else. Each id is a run's folder name, so two values of one
// sweep must never share one: a value is printed with the fewest significant
// digits (at least 6, as %g) that tell it apart from every other value of the
// sweep, up to 17, which round-trips any double exactly.
#include <string>
#include <vector>

namespace dpsgd::experiment {

/// One id per value, in order: `prefix` + "-" + the value. Throws
/// util::UserError naming `key` and the value when two values are exactly equal
/// (a duplicate sweep value would run the same thing twice into one folder).
std::vector<std::string> make_run_ids(const std::string& prefix, const std::vector<double>& values,
                                      const std::string& key);

/// The id of a single run: "nonprivate", or "sigma-<sigma>" printed as %g.
std::string make_run_id(bool private_run, double sigma);

}  // namespace dpsgd::experiment
