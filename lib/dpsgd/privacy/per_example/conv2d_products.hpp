#pragma once
// The products behind the Conv2d rules, as functions of the convolution's
// geometry and the weight it applies: Conv2dRule passes its parameter,
// WsConv2dRule the standardised weight (its per-example gradients are those of
// a Conv2d with that weight, then mapped through the standardisation's
// Jacobian). See conv2d_rule.hpp for the formulas.
#include <array>
#include <tuple>

#include <torch/torch.h>

#include "dpsgd/models/layers/conv2d.hpp"

namespace dpsgd::privacy {

/// at::convolution_backward of conv(a; weight) for output gradient g; `mask`
/// picks (input, weight, bias) gradients.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv2d_backward(
    const models::Conv2dOptions& o, const torch::Tensor& weight, const torch::Tensor& a,
    const torch::Tensor& g, std::array<bool, 3> mask);

/// (B, *weight.shape): every example's gradient w.r.t. `weight`.
torch::Tensor conv2d_per_example_weight_grads(const models::Conv2dOptions& o,
                                              const torch::Tensor& weight, const torch::Tensor& a,
                                              const torch::Tensor& g);

/// (B, *weight.shape) for rows in groups of `views` (augmentation multiplicity):
/// each group's summed gradient, as one weight-gradient product in which the
/// views are the batch and the examples are the groups (views == 1: as above).
torch::Tensor conv2d_per_group_weight_grads(const models::Conv2dOptions& o,
                                            const torch::Tensor& weight, const torch::Tensor& a,
                                            const torch::Tensor& g, std::int64_t views);

/// (B, C_out): each group's bias gradient, the sum of its rows' output gradients.
torch::Tensor conv2d_per_group_bias_grads(const torch::Tensor& g, std::int64_t views);

/// (B, G, p_g, T): the output gradient, split by group.
torch::Tensor conv2d_grad_by_group(const models::Conv2dOptions& o, const torch::Tensor& g);

/// True when T^2 >= p_g d_g (mixed ghost clipping's rule, see layer_rule.hpp).
bool conv2d_materializing_is_cheaper(const models::Conv2dOptions& o, const torch::Tensor& weight,
                                     const torch::Tensor& g);

}  // namespace dpsgd::privacy
