#pragma once
// Per-layer per-example gradient rules: for a trainable layer with input
// activation a_i and output gradient g_i of example i, the gradient of that
// example's loss w.r.t. the layer's parameters is a function of (a_i, g_i) alone
// (e.g. Linear: g_i^T a_i). The rules compute, from a batch of (a, g):
//   - per_example_grads: the gradients themselves (materialize engine),
//   - per_example_sq_norms: their squared norms without materialising them
//     (ghost norms: Goodfellow 2015; Li et al. 2022; Bu et al. 2023),
//   - materializing_is_cheaper: the per-layer rule of mixed ghost clipping (Bu et
//     al. 2022): for a layer with T positions, p outputs and d inputs per
//     position, the Gram matrices take T^2 per example and the gradient p d, so
//     the ghost engine materialises when T^2 >= p d. It is a memory rule that
//     implies the arithmetic one: the Gram form costs ~T^2 (p + d), the gradient
//     ~T p d, and T^2 >= p d gives T^2 (p + d) >= T p d,
//   - weighted_grad_sum: sum_i w_i * grad_i as one product (book-keeping, Bu et
//     al. 2023), which is the clipped sum when w_i are the clipping factors,
//   - input_grad: dL/da, so the capture can replace the layer's autograd node
//     and skip the (unneeded) batch weight gradient entirely.
// The loop engine (one backward per example) is the oracle these are tested against.
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::privacy {

class LayerRule {
 public:
  virtual ~LayerRule() = default;

  /// Gradient w.r.t. the layer input, given the output gradient.
  [[nodiscard]] virtual torch::Tensor input_grad(models::TappedLayer& layer, const torch::Tensor& a,
                                                 const torch::Tensor& g) const = 0;
  /// One (B, *param.shape) tensor per layer parameter, in layer_parameters() order.
  [[nodiscard]] virtual std::vector<torch::Tensor> per_example_grads(
      models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g) const = 0;
  /// (B, P): squared L2 norm of each example's gradient for each of the P parameters.
  [[nodiscard]] virtual torch::Tensor per_example_sq_norms(models::TappedLayer& layer,
                                                           const torch::Tensor& a,
                                                           const torch::Tensor& g) const = 0;
  /// True when forming this layer's per-example gradients costs no more than its
  /// ghost norm (see above); the ghost engine then takes the norms from them and
  /// reuses them for the clipped sum. Default: the ghost form is cheaper.
  [[nodiscard]] virtual bool materializing_is_cheaper(models::TappedLayer& /*layer*/,
                                                      const torch::Tensor& /*a*/,
                                                      const torch::Tensor& /*g*/) const {
    return false;
  }
  /// sum_i weights[i, k] * grad_i[k] for each parameter k; weights is (B, P).
  [[nodiscard]] virtual std::vector<torch::Tensor> weighted_grad_sum(
      models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g,
      const torch::Tensor& weights) const = 0;

  /// Augmentation multiplicity: the rows of (a, g) come in groups of `views`
  /// consecutive rows, the views of one example, whose gradient is the sum of
  /// its rows' (the output gradients already carry the 1/K of the mean). One
  /// (B, *param.shape) tensor per parameter, B = rows / views. Default: the
  /// rows' per-example gradients, summed per group; exact for every rule. The
  /// ghost engine takes K > 1 norms from these, and needs no group form of the
  /// weighted sum: weights repeated over each group's rows give the same sum.
  [[nodiscard]] virtual std::vector<torch::Tensor> per_group_grads(models::TappedLayer& layer,
                                                                   const torch::Tensor& a,
                                                                   const torch::Tensor& g,
                                                                   std::int64_t views) const;
};

/// The rule for a layer kind (one per models::LayerKind).
const LayerRule& rule_for(models::LayerKind kind);

/// (B): squared L2 norm of each example's slice of a (B, *shape) per-example gradient.
torch::Tensor per_example_sq_norm(const torch::Tensor& grads);

/// sum_i weights[i] * grads[i] for (B) weights and (B, *shape) per-example gradients.
torch::Tensor weighted_example_sum(const torch::Tensor& weights, const torch::Tensor& grads);

}  // namespace dpsgd::privacy
