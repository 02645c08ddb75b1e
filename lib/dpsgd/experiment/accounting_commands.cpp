#include "dpsgd/experiment/accounting_commands.hpp"

#include <cmath>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/accounting/accounting_error.hpp"
#include "dpsgd/accounting/calibration.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::experiment {
namespace {

using util::UserError;

void validate(const AccountingQuery& q, bool needs_sigma) {
  if (!(q.sample_rate > 0 && q.sample_rate <= 1)) {
    throw UserError(util::cat("--sample-rate ", q.sample_rate, " is invalid: must be in (0, 1]"));
  }
  if (!(q.delta > 0 && q.delta < 1)) {
    throw UserError(util::cat("--delta ", q.delta, " is invalid: must be in (0, 1)"));
  }
  if (q.steps < 0) throw UserError(util::cat("--steps ", q.steps, " is invalid: must be >= 0"));
  if (needs_sigma && (!(q.noise_multiplier >= 0) || !std::isfinite(q.noise_multiplier))) {
    throw UserError(util::cat("--noise-multiplier ", q.noise_multiplier,
                              " is invalid: must be a finite number >= 0"));
  }
}

accounting::AccountantMaker maker(const AccountingQuery& q) {
  const auto& factory = accounting::accountant_registry().get(q.accountant);
  accounting::AccountantOptions options;
  options.rdp_conversion = q.rdp_conversion;
  return [factory, options] { return factory(options); };
}

// The accountant's epsilon, its refusal (accounting_error.hpp) turned into the
// user's error (exit 2): the query is valid, but this accountant cannot answer it.
accounting::EpsilonReport epsilon_or_refusal(const accounting::AccountantMaker& make, double sigma,
                                             const AccountingQuery& q) {
  try {
    return accounting::epsilon_for(make, sigma, q.sample_rate, q.steps, q.delta);
  } catch (const accounting::AccountingError& e) {
    throw UserError(util::cat("--accountant ", q.accountant, " cannot answer this query: ",
                              e.what(), " (on the command line: --accountant rdp)"));
  }
}

nlohmann::json report_json(const AccountingQuery& q, const accounting::EpsilonReport& r) {
  const auto number = [](double x) {
    return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json("inf");
  };
  // "epsilon" is what training reports and calibration targets: the upper end
  // of the accountant's error bound (PRV; Opacus' PRVAccountant.get_epsilon
  // returns the same). The PRV point estimate is in "epsilon_estimate".
  nlohmann::json out = {{"epsilon", number(accounting::reported_epsilon(r))},
                        {"delta", q.delta},
                        {"accountant", q.accountant},
                        {"sample_rate", q.sample_rate},
                        {"steps", q.steps}};
  // Each accountant fills the details that apply to it (accountant.hpp).
  if (r.best_order) out["best_order"] = *r.best_order;
  if (r.rdp_conversion) out["conversion"] = *r.rdp_conversion;
  if (r.has_bounds) {
    out["epsilon_estimate"] = number(r.epsilon);
    out["epsilon_lower"] = number(r.epsilon_lower);
    out["epsilon_upper"] = number(r.epsilon_upper);
  }
  if (r.approximation) out["approximation"] = true;  // e.g. GDP's CLT: not a guarantee
  return out;
}

}  // namespace

nlohmann::json epsilon_command(const AccountingQuery& q) {
  validate(q, /*needs_sigma=*/true);
  const auto make = maker(q);
  util::Stopwatch clock;
  const auto report = epsilon_or_refusal(make, q.noise_multiplier, q);
  auto out = report_json(q, report);
  out["noise_multiplier"] = q.noise_multiplier;
  out["seconds"] = clock.seconds();
  return out;
}

nlohmann::json calibrate_command(const AccountingQuery& q) {
  validate(q, /*needs_sigma=*/false);
  if (!(q.target_epsilon > 0) || !std::isfinite(q.target_epsilon)) {
    throw UserError(util::cat("--target-epsilon ", q.target_epsilon, " is invalid: must be > 0"));
  }
  const auto make = maker(q);
  double sigma = 0;
  try {
    sigma = accounting::calibrate_sigma(make, q.target_epsilon, q.sample_rate, q.steps, q.delta);
  } catch (const std::invalid_argument& e) {
    throw UserError(e.what());
  }
  const auto report = epsilon_or_refusal(make, sigma, q);
  auto out = report_json(q, report);
  out["noise_multiplier"] = sigma;
  out["target_epsilon"] = q.target_epsilon;
  out["tolerance"] = "relative 1e-4 in sigma; epsilon <= target";
  return out;
}

}  // namespace dpsgd::experiment
