#pragma once
// The closed-form heads (dp_ls, dp_fc) as the accountant sees them: one overall
// noise multiplier sigma (given, or calibrated from privacy.target_epsilon) split
// between the head's full-batch Gaussian mechanisms by head.budget_share.
// A mechanism with share f runs at sigma / sqrt(f): Gaussian mechanisms'
// RDP alpha / (2 s^2) adds up (Mironov 2017, Prop. 7), so shares summing to 1
// compose to exactly one Gaussian mechanism at sigma (accounting/pipeline.hpp).
//  - dp_ls: the Gram matrix gets share f, the class sums 1 - f; with class weights
//    (head.class_weight_alpha) the Gram matrix and the per-class Gram matrices
//    get f / 2 each.
//  - dp_fc: the covariance gets share f, each of the T gradient steps (1 - f) / T.
#include <vector>

#include "dpsgd/accounting/accountant.hpp"
#include "dpsgd/config/experiment_config.hpp"
#include "dpsgd/heads/dp_feature_covariance.hpp"
#include "dpsgd/heads/dp_least_squares.hpp"

namespace dpsgd::experiment {

heads::DpLsOptions dp_ls_options(const config::HeadConfig& head, double sigma);
heads::DpFcOptions dp_fc_options(const config::HeadConfig& head, double sigma);

/// The segments (noise multiplier, q = 1, steps) the head runs at overall `sigma`.
std::vector<accounting::MechanismSegment> head_mechanisms(const config::HeadConfig& head,
                                                          double sigma);

}  // namespace dpsgd::experiment
