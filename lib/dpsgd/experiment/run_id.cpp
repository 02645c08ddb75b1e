#include "dpsgd/experiment/run_id.hpp"

#include <cstdio>
#include <set>

#include "dpsgd/util/error.hpp"

namespace dpsgd::experiment {
namespace {

std::string format(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*g", digits, value);
  return buffer;
}

// %g with the most digits needed: 17 significant digits round-trip every
// double, so distinct values always print apart there.
constexpr int kMinDigits = 6;
constexpr int kExactDigits = 17;

// The fewest digits (>= 6) at which `value` prints apart from each other value.
int digits_for(std::size_t i, const std::vector<double>& values) {
  int digits = kMinDigits;
  for (std::size_t j = 0; j < values.size(); ++j) {
    if (j == i) continue;
    while (digits < kExactDigits && format(values[i], digits) == format(values[j], digits)) {
      ++digits;
    }
  }
  return digits;
}

}  // namespace

std::vector<std::string> make_run_ids(const std::string& prefix, const std::vector<double>& values,
                                      const std::string& key) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (std::size_t j = i + 1; j < values.size(); ++j) {
      if (values[i] == values[j]) {
        throw util::UserError(key + ": the value '" + format(values[i], kExactDigits) +
                              "' is given twice in the sweep (positions " + std::to_string(i + 1) +
                              " and " + std::to_string(j + 1) +
                              "); both runs would share one folder: remove one");
      }
    }
  }
  std::vector<std::string> ids;
  ids.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    ids.push_back(prefix + "-" + format(values[i], digits_for(i, values)));
  }
  // Values printed at different precisions cannot collide (a shorter print of
  // one value equals its own longer print only when they agree), but a folder
  // overwritten is costly enough to check; exact digits for all then.
  if (std::set<std::string>(ids.begin(), ids.end()).size() != ids.size()) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      ids[i] = prefix + "-" + format(values[i], kExactDigits);
    }
  }
  return ids;
}

std::string make_run_id(bool private_run, double sigma) {
  if (!private_run) return "nonprivate";
  return "sigma-" + format(sigma, kMinDigits);
}

}  // namespace dpsgd::experiment
