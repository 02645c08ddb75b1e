#pragma once
// `dpsgd-run epsilon` and `dpsgd-run calibrate`: privacy accounting from the
// command line, one JSON object as the answer (researchers script against it).
// Bad arguments are util::UserError (exit code 2).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/accounting/rdp_accountant.hpp"

namespace dpsgd::experiment {

struct AccountingQuery {
  std::string accountant = "rdp";
  double sample_rate = 0.0;
  double noise_multiplier = 0.0;  ///< epsilon only
  double target_epsilon = 0.0;    ///< calibrate only
  std::int64_t steps = 0;
  double delta = 1e-5;
  accounting::RdpConversion rdp_conversion = accounting::RdpConversion::kImproved;
};

nlohmann::json epsilon_command(const AccountingQuery& query);
nlohmann::json calibrate_command(const AccountingQuery& query);

}  // namespace dpsgd::experiment
