#pragma once
// Per-example gradients of Embedding, y[t] = W[idx[t]]. Output t of example i
// depends on W only through row idx_i[t], so the example's gradient collects its
// output gradients into the rows it looked up:
//   grad_W,i[v] = sum_{t : idx_i[t] = v} g_i[t]         (scatter-add, V x D).
// Norms: ||grad_W,i||^2 = sum_v ||sum_{t: idx_i[t]=v} g_i[t]||^2
//                       = sum_{t,s : idx_i[t] = idx_i[s]} <g_i[t], g_i[s]>.
// It is computed by segment sums over the rows each example actually uses
// (sort the (example, index) keys, add the g rows of equal keys, square): cost
// B T D plus a sort of B T keys, below both the pairwise Gram form (B T^2 D) and
// the materialised gradient (B V D), whatever T and V are, so there is no switch.
// The clipped sum is one index_add of the factor-scaled g into the V x D table.
// The input is integer indices, which carry no gradient: input_grad is never
// needed (the capture only asks for it when the input requires grad).
#include "dpsgd/privacy/per_example/layer_rule.hpp"

namespace dpsgd::privacy {

class EmbeddingRule final : public LayerRule {
 public:
  [[nodiscard]] torch::Tensor input_grad(models::TappedLayer& layer, const torch::Tensor& a,
                                         const torch::Tensor& g) const override;
  [[nodiscard]] std::vector<torch::Tensor> per_example_grads(models::TappedLayer& layer,
                                                             const torch::Tensor& a,
                                                             const torch::Tensor& g) const override;
  [[nodiscard]] torch::Tensor per_example_sq_norms(models::TappedLayer& layer,
                                                   const torch::Tensor& a,
                                                   const torch::Tensor& g) const override;
  [[nodiscard]] std::vector<torch::Tensor> weighted_grad_sum(
      models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g,
      const torch::Tensor& weights) const override;
};

}  // namespace dpsgd::privacy
