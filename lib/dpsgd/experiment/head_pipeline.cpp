#include "dpsgd/experiment/head_pipeline.hpp"

#include <cmath>
#include <stdexcept>

#include "dpsgd/accounting/pipeline.hpp"

namespace dpsgd::experiment {

heads::DpLsOptions dp_ls_options(const config::HeadConfig& head, double sigma) {
  heads::DpLsOptions o;
  o.clip_norm = head.clip_norm;
  o.ridge = head.ridge;
  // With class weights the per-class Gram matrices are a third release at the
  // Gram's noise multiplier: the Gram's share is split evenly between the two.
  const double gram_share = head.class_weight_alpha ? head.budget_share / 2 : head.budget_share;
  o.gram_noise_multiplier = accounting::share_noise_multiplier(sigma, gram_share);
  o.sums_noise_multiplier = accounting::share_noise_multiplier(sigma, 1.0 - head.budget_share);
  o.class_weight_alpha = head.class_weight_alpha;
  o.fit_bias = head.fit_bias;
  return o;
}

heads::DpFcOptions dp_fc_options(const config::HeadConfig& head, double sigma) {
  heads::DpFcOptions o;
  o.clip_norm = head.clip_norm;
  o.covariance_noise_multiplier = accounting::share_noise_multiplier(sigma, head.budget_share);
  o.steps = head.steps;
  o.lr = head.lr;
  o.ridge = head.ridge;
  o.gradient_clip_norm = head.gradient_clip_norm;
  // Each of the T steps gets (1 - f) / T of the budget.
  o.step_noise_multiplier = accounting::share_noise_multiplier(
      sigma, (1.0 - head.budget_share) / static_cast<double>(head.steps));
  o.fit_bias = head.fit_bias;
  return o;
}

std::vector<accounting::MechanismSegment> head_mechanisms(const config::HeadConfig& head,
                                                          double sigma) {
  switch (head.method) {
    case config::HeadMethod::kDpLs:
      return heads::dp_ls_mechanisms(dp_ls_options(head, sigma));
    case config::HeadMethod::kDpFc:
      return heads::dp_fc_mechanisms(dp_fc_options(head, sigma));
    case config::HeadMethod::kDpSgd:
      break;
  }
  throw std::logic_error("head_mechanisms: dp_sgd runs through the trainer");
}

}  // namespace dpsgd::experiment
