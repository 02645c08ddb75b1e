#pragma once
// DP-LS: private least squares on noisy sufficient statistics (Mehta, Krichene,
// Thakurta, Kurakin & Cutkosky, "Differentially Private Image Classification from
// Features", TMLR 2023, the DP-LS algorithm; the formulation below follows their
// reference implementation, google-research/dp_transfer, train_linear_regression.py
// and linear_regression_sanitizer.py; no code is taken from it).
//
// Features x_i (a constant 1 appended first when fit_bias, see bias_column.hpp)
// are clipped to ||x_i|| <= C. Then, with one-hot targets:
//   plain (class_weight_alpha unset): minimise ||X W - Y||_F^2 + lambda ||W||_F^2,
//     whose normal equations are (G + lambda I) W = B with G = X^T X and
//     B = X^T Y (column k = sum of the rows of class k);
//   class-weighted (alpha set): one objective per class k,
//     L_k(theta) = sum_{i: y_i = k} (<theta, x_i> - 1)^2
//                  + alpha * sum_{all i} <theta, x_i>^2 + lambda ||theta||^2,
//     i.e. every example is pushed to 0 with weight alpha and the positives to 1
//     with weight 1, which counters the 1 : (K - 1) imbalance of one-vs-rest
//     targets. Normal equations: (A_k + alpha G + lambda I) theta_k = b_k with
//     A_k = sum_{i: y_i = k} x_i x_i^T the Gram of class k. The weights are the
//     constants 1 and alpha, NOT functions of the class counts, so no count is
//     released or needs privatising.
// The statistics are replaced by noisy ones, PSD-projected (post-processing), and
// the ridge systems solved in float64 (W is the head's weight transposed).
//
// Guarantee: (epsilon, delta)-DP under add/remove-one neighbouring datasets, by
// composing full-batch Gaussian mechanisms (sampling rate q = 1, steps = 1 each),
// listed by dp_ls_mechanisms():
//   1. G~ = G + N(0, (sigma_g C^2)^2) on the upper triangle: sensitivity C^2
//      (noisy_statistics.hpp);
//   2. (class-weighted only) A~_k for every k, each with its own N(0, (sigma_g
//      C^2)^2) upper-triangle noise: one mechanism on the stacked statistic
//      (A_1, ..., A_K), whose sensitivity is C^2 because an added example changes
//      only the Gram of its own class, by x x^T. The reference implementation
//      uses the same sigma for both Grams; so does this one;
//   3. B~ = B + N(0, (sigma_s C)^2) per entry: sensitivity C (one column moves by
//      the added clipped row).
// A noise multiplier of 0 releases the exact statistic: not private (the
// accountant's epsilon is infinite); it is there for tests and baselines.
// The labels enter only through B and the A_k, whose sensitivities above already
// cover an added example of any class. The dataset size N is not used.
#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/accounting/accountant.hpp"
#include "dpsgd/heads/linear_head.hpp"
#include "dpsgd/privacy/gaussian_noise.hpp"

namespace dpsgd::heads {

struct DpLsOptions {
  double clip_norm = 1.0;                    ///< C: rows of [x, 1] clipped to this norm
  double ridge = 0.0;                        ///< lambda
  double gram_noise_multiplier = 0.0;        ///< sigma_g (std sigma_g * C^2)
  double sums_noise_multiplier = 0.0;        ///< sigma_s (std sigma_s * C)
  std::optional<double> class_weight_alpha;  ///< alpha: the class-weighted objective
  bool fit_bias = true;
};

/// The head fitted by DP-LS on N x D `features` with labels in [0, num_classes);
/// its dtype is the features' (float64 in the solve), on their device.
LinearHead fit_dp_ls(const torch::Tensor& features, const torch::Tensor& labels,
                     std::int64_t num_classes, const DpLsOptions& options,
                     privacy::GaussianNoise& noise);

/// The Gaussian mechanisms fit_dp_ls runs, in order, for the accountant: (sigma_g,
/// 1, 1) for G, (sigma_g, 1, 1) for the class Grams when class-weighted, and
/// (sigma_s, 1, 1) for the class sums.
std::vector<accounting::MechanismSegment> dp_ls_mechanisms(const DpLsOptions& options);

}  // namespace dpsgd::heads
