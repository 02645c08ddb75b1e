#pragma once
// The privacy of releasing only the best of several training runs, in RDP.
// Every trial Q is one run with settings drawn from the sweep; its RDP curve is
// the largest of the candidate runs' curves at each order (a data-independent
// random choice among mechanisms is a mixture, and Renyi divergence is jointly
// quasi-convex: van Erven and Harremoes 2014, Thm 13), and each candidate's
// curve is its accountant history's composed Poisson-subsampled Gaussian RDP
// (accounting/rdp_accountant.hpp), whatever accountant the run reported with.
//  - Fixed count (every sweep point once): all runs' curves add (Mironov 2017,
//    Prop. 1); releasing the best is no cheaper than releasing all.
//  - Truncated negative binomial K (Papernot and Steinke 2022, Thm 2): if Q is
//    (lambda, eps)-RDP and (lambda_hat, eps_hat)-RDP, the best of K trials is
//    (lambda, eps')-RDP with
//      eps' = eps + (1 + eta)(1 - 1/lambda_hat) eps_hat + (1 + eta) log(1/gamma) / lambda_hat
//             + log(E[K]) / (lambda - 1),
//    minimised here over lambda_hat in {1} and the orders.
//  - Poisson K with mean mu (ibid., Thm 6): if Q is (eps_hat, delta_hat)-DP with
//    e^eps_hat <= 1 + 1/(lambda - 1), the best is (lambda, eps')-RDP with
//      eps' = eps + mu delta_hat + log(mu) / (lambda - 1);
//    delta_hat is Q's delta at eps_hat = log(1 + 1/(lambda - 1)) from its RDP curve
//    (Canonne, Kamath, Steinke 2020, Prop. 12:
//     delta = min_a exp((a - 1)(R(a) - eps)) (1 - 1/a)^(a - 1) / a).
// The selection's curve is then converted to (epsilon, delta) like any RDP curve.
// The validation split the selection reads is not covered: it must be public
// (or held out and treated as such); the tuning report says so.
#include <cstdint>
#include <vector>

#include "dpsgd/accounting/accountant.hpp"
#include "dpsgd/tuning/trial_count.hpp"

namespace dpsgd::tuning {

/// The composed RDP curve of a run's accountant history at `orders`.
[[nodiscard]] std::vector<double> history_rdp(
    const std::vector<accounting::MechanismSegment>& history, const std::vector<double>& orders);

/// The trial's curve: the order-wise maximum of the candidates' curves.
[[nodiscard]] std::vector<double> mixture_rdp(const std::vector<std::vector<double>>& curves);

/// The order-wise sum of the curves (a fixed number of trials, all released).
[[nodiscard]] std::vector<double> composed_rdp(const std::vector<std::vector<double>>& curves);

/// Papernot-Steinke Thm 2 at every order (orders > 1; the trial's curve on them).
[[nodiscard]] std::vector<double> tnb_selection_rdp(const std::vector<double>& orders,
                                                    const std::vector<double>& trial_rdp,
                                                    const TruncatedNegativeBinomial& k);

/// Papernot-Steinke Thm 6 at every order (+inf where delta_hat cannot be bounded).
[[nodiscard]] std::vector<double> poisson_selection_rdp(const std::vector<double>& orders,
                                                        const std::vector<double>& trial_rdp,
                                                        double mu);

/// delta of an RDP curve at `epsilon` (Canonne, Kamath, Steinke 2020, Prop. 12), capped at 1.
[[nodiscard]] double rdp_delta(const std::vector<double>& orders, const std::vector<double>& rdp,
                               double epsilon);

}  // namespace dpsgd::tuning
