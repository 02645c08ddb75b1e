#pragma once
// Accounting for a mixed private pipeline on fixed features: full-batch Gaussian
// mechanisms (sampling rate q = 1: e.g. DP least squares releases a noisy Gram matrix
// and noisy class sums, private normalisation releases noisy feature moments) followed
// or not by Poisson-subsampled DP-SGD steps. Every release is a Gaussian mechanism on a
// sum with L2 sensitivity 1 after scaling (the caller bounds each example's
// contribution and divides by that bound), under add/remove-one neighbours, so each is
// one MechanismSegment (sigma, q, steps) and the accountants of accountant.hpp compose
// them adaptively like any DP-SGD history.
//
// Splitting one budget between full-batch releases. The RDP of the Gaussian mechanism
// with noise multiplier s is R(alpha) = alpha / (2 s^2) (Mironov 2017, "Renyi
// Differential Privacy", Prop. 7), and RDP adds under composition (Prop. 1). Releases
// with multipliers s_i = sigma / sqrt(f_i), shares f_i > 0 with sum f_i = 1, therefore
// compose to sum_i alpha f_i / (2 sigma^2) = alpha / (2 sigma^2): exactly ONE Gaussian
// mechanism with multiplier sigma. The same holds for the exact privacy loss
// distribution: a Gaussian mechanism with multiplier s is (1/s)-GDP and mu_i-GDP
// mechanisms compose to sqrt(sum mu_i^2)-GDP (Dong, Roth, Su 2019, "Gaussian
// Differential Privacy", Cor. 3.3), and sqrt(sum f_i / sigma^2) = 1 / sigma. So a
// budget "split" is the shares f_i, and share_noise_multiplier() gives each piece's s_i.
#include <functional>
#include <vector>

#include "dpsgd/accounting/accountant.hpp"

namespace dpsgd::accounting {

/// The epsilon at `delta` of a fresh accountant fed every segment in order (segments
/// with zero steps record nothing; an empty list gives epsilon 0). Throws what the
/// accountant throws: std::invalid_argument for a bad segment or delta, AccountingError
/// for a history past its range.
EpsilonReport epsilon_of(const AccountantMaker& make, const std::vector<MechanismSegment>& segments,
                         double delta);

/// sigma / sqrt(share): the noise multiplier of a full-batch Gaussian release that takes
/// the fraction `share` of a budget whose releases together equal one Gaussian mechanism
/// with multiplier sigma (see above). Throws std::invalid_argument unless sigma is finite
/// and >= 0 and share is in (0, 1].
double share_noise_multiplier(double sigma, double share);

/// A pipeline's segments as a function of one overall noise scale sigma. For calibration
/// every segment's noise multiplier must be non-decreasing in sigma (e.g. proportional to
/// it, as share_noise_multiplier() makes them), so that epsilon is non-increasing in sigma.
using PipelineOfSigma = std::function<std::vector<MechanismSegment>(double sigma)>;

/// The smallest overall scale sigma whose pipeline's reported epsilon at `delta` (the
/// upper bound, reported_epsilon()) is at most target_epsilon, by bisection: the result
/// sigma* satisfies epsilon(sigma*) <= target and sigma* <= (1 + tolerance) * sigma_min.
/// A pipeline with no steps at all returns 0. A sigma the accountant refuses
/// (AccountingError) or answers with NaN counts as missing the target, so the result is
/// always a sigma whose epsilon was computed. Throws std::invalid_argument for a target
/// that is not finite and > 0, tolerance outside (0, 1), delta outside (0, 1), or a
/// target no sigma up to 1e6 reaches (the message carries the last refusal, if any).
double calibrate_pipeline(const AccountantMaker& make, double target_epsilon, double delta,
                          const PipelineOfSigma& pipeline, double tolerance = 1e-4);

}  // namespace dpsgd::accounting
