#pragma once
// DP-FC: differentially private gradient descent preconditioned by a privatised
// feature covariance (Mehta, Krichene, Thakurta, Kurakin & Cutkosky,
// "Differentially Private Image Classification from Features", TMLR 2023, the
// DP-FC algorithm; the formulation follows their reference implementation,
// google-research/dp_transfer, train_fc.py and fc_sanitizer.py; no code is taken).
//
//   x_i <- [x_i, 1] when fit_bias (bias_column.hpp);
//   F~ = PSD( sum_i clip_C(x_i) clip_C(x_i)^T + E ), computed ONCE: the feature
//        covariance stands in for the Hessian of the logistic loss, which would
//        cost privacy at every step (DP-Newton); it needs no labels and no W;
//   W_0 = 0; for t = 1..steps (full batch):
//     g~_t = sum_i clip_c(grad l(W_{t-1}; x_i, y_i)) + N(0, (sigma_step c)^2 I),
//            l the one-vs-rest logistic loss (one_vs_rest_gradient.hpp);
//     W_t  = W_{t-1} - lr * g~_t (F~ + lambda I)^{-1}   (each class row solved).
// Normalisation, as in the reference: F~ and g~ are SUMS, not means. This equals
// preconditioning the mean gradient g~/N by (F~/N + (lambda/N) I)^{-1}, so N
// cancels and is not used at all; lambda is on the scale of the summed
// covariance (the paper's reported lambda = 100 with lr = 0.2 and 10 steps).
// The gradients use the unclipped features: their own clipping to c bounds the
// sensitivity, and the head is then applied to the same unclipped features.
// (The reference code keeps a fixed logit offset of -10 instead of a bias; here
// the bias is learned through the constant column, starting from 0.)
//
// Guarantee: (epsilon, delta)-DP under add/remove-one neighbouring datasets for
// the adaptive composition of full-batch Gaussian mechanisms (q = 1, no
// subsampling), listed by dp_fc_mechanisms():
//   - the covariance: upper triangle + N(0, (sigma_cov C^2)^2), sensitivity C^2
//     (noisy_statistics.hpp), (sigma_cov, 1, 1);
//   - each step's gradient sum: sensitivity c (the added example's clipped
//     gradient), noise N(0, (sigma_step c)^2) per entry, (sigma_step, 1, steps).
// Everything else (PSD projection, solves, updates) is post-processing.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/accounting/accountant.hpp"
#include "dpsgd/heads/linear_head.hpp"
#include "dpsgd/privacy/gaussian_noise.hpp"

namespace dpsgd::heads {

struct DpFcOptions {
  double clip_norm = 1.0;                    ///< C: feature rows clipped for the covariance
  double covariance_noise_multiplier = 0.0;  ///< sigma_cov (std sigma_cov * C^2)
  std::int64_t steps = 10;
  double lr = 0.2;
  double ridge = 100.0;                ///< lambda, on the summed covariance
  double gradient_clip_norm = 1.0;     ///< c: per-example gradient clip
  double step_noise_multiplier = 0.0;  ///< sigma_step (std sigma_step * c)
  bool fit_bias = true;
};

/// The head fitted by DP-FC on N x D `features` with labels in [0, num_classes);
/// its dtype is the features' (float64 in the computation), on their device.
LinearHead fit_dp_fc(const torch::Tensor& features, const torch::Tensor& labels,
                     std::int64_t num_classes, const DpFcOptions& options,
                     privacy::GaussianNoise& noise);

/// The Gaussian mechanisms fit_dp_fc runs, for the accountant:
/// (sigma_cov, 1, 1) then (sigma_step, 1, steps).
std::vector<accounting::MechanismSegment> dp_fc_mechanisms(const DpFcOptions& options);

}  // namespace dpsgd::heads
