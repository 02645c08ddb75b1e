#pragma once
// The clipped per-example gradient sum of the one-vs-rest logistic loss of a
// linear model, the statistic DP-FC privatises at every step (Mehta et al., TMLR
// 2023, DP-FC; the loss is their reference implementation's, train_fc.py):
//   l(W; x, y) = (1/K) sum_k [ -t_k log s(z_k) - (1 - t_k) log(1 - s(z_k)) ],
//   z = W x, t = one_hot(y), s the logistic sigmoid,
// whose gradient is the outer product g = r x^T with r = (s(z) - t) / K. Its
// Frobenius norm is therefore ||r|| ||x|| in closed form, so per-example clipping
// needs no per-example loop and no autograd:
//   sum_i min(1, c / (||r_i|| ||x_i||)) r_i x_i^T.
// Sensitivity under add/remove-one: the added example's clipped gradient, <= c.
#include <torch/torch.h>

namespace dpsgd::heads {

/// sum_i clip_c(grad_W l(W; x_i, y_i)) for the K x D `weight`, the N x D
/// `features` and N `labels` in [0, K); K x D, in the inputs' dtype.
torch::Tensor one_vs_rest_clipped_gradient_sum(const torch::Tensor& weight,
                                               const torch::Tensor& features,
                                               const torch::Tensor& labels, double clip_norm);

}  // namespace dpsgd::heads
