#pragma once
// Noisy sufficient statistics of clipped features, the building blocks of the
// private heads (Mehta, Krichene, Thakurta, Kurakin & Cutkosky, "Differentially
// Private Image Classification from Features", TMLR 2023: DP-LS releases a noisy
// Gram matrix and noisy per-class feature sums; DP-FC a noisy feature covariance).
//
// Guarantee: each noisy_* function is ONE Gaussian mechanism (Dwork & Roth 2014,
// Thm 3.22; Mironov 2017 for its RDP form), full batch (sampling rate q = 1: every
// example enters the statistic, there is no subsampling), for add/remove-one
// neighbouring datasets: output = statistic + N(0, std^2) per released coordinate,
// with std = sigma * Delta, Delta the statistic's L2 sensitivity:
//   - Gram X_c^T X_c of rows clipped to norm C: Delta = C^2 (see noisy_gram);
//   - class sums (column k = sum of the clipped rows of class k): Delta = C.
// The caller picks std = sigma * Delta and records (sigma, q = 1, steps = 1) with
// the accountant. The noise comes from privacy::GaussianNoise (seeded or secure),
// never from torch's global generator.
#include <cstdint>

#include <torch/torch.h>

#include "dpsgd/privacy/gaussian_noise.hpp"

namespace dpsgd::heads {

/// Each row of the N x D `x` scaled to L2 norm <= `clip_norm`; rows already
/// within the bound are returned unchanged (x_i * min(1, C / ||x_i||)).
torch::Tensor clip_rows(const torch::Tensor& x, double clip_norm);

/// X^T X + E for the N x D `clipped`, E symmetric with i.i.d. N(0, std^2) on the
/// upper triangle including the diagonal, mirrored below. Only the upper triangle
/// is released information (the lower one is a copy), and its sensitivity is at
/// most C^2: adding row x changes entry (a, b) by x_a x_b, and
///   sum_{a <= b} (x_a x_b)^2 <= sum_{a, b} x_a^2 x_b^2 = ||x||^4 <= C^4.
/// std == 0 returns the exact Gram and draws nothing.
torch::Tensor noisy_gram(const torch::Tensor& clipped, double std, privacy::GaussianNoise& noise);

/// D x K matrix whose column k is the sum of the rows of `clipped` labelled k
/// (labels: N integers in [0, K)), plus i.i.d. N(0, std^2) per entry. Sensitivity
/// C: an added example changes one column by its clipped row, of norm <= C.
/// std == 0 returns the exact sums and draws nothing.
torch::Tensor noisy_class_sums(const torch::Tensor& clipped, const torch::Tensor& labels,
                               std::int64_t num_classes, double std, privacy::GaussianNoise& noise);

/// The nearest PSD matrix in Frobenius norm to the symmetric part of `s`: its
/// eigendecomposition with negative eigenvalues clamped to 0. Post-processing, so
/// it costs no privacy; it makes (S + lambda I) safely invertible for lambda > 0.
torch::Tensor project_psd(const torch::Tensor& s);

}  // namespace dpsgd::heads
