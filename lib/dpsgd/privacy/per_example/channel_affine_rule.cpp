#include "dpsgd/privacy/per_example/channel_affine_rule.hpp"

#include "dpsgd/models/layers/channel_affine.hpp"

namespace dpsgd::privacy {
namespace {

models::ChannelAffineImpl& as_affine(models::TappedLayer& layer) {
  return dynamic_cast<models::ChannelAffineImpl&>(layer);
}

// (B, C, S) views with S = product of the spatial dimensions (1 for (B, C) input).
torch::Tensor by_channel(const torch::Tensor& x) { return x.reshape({x.size(0), x.size(1), -1}); }

}  // namespace

torch::Tensor ChannelAffineRule::input_grad(models::TappedLayer& layer, const torch::Tensor& /*a*/,
                                            const torch::Tensor& g) const {
  return g * models::channel_view(as_affine(layer).weight, g.dim());
}

std::vector<torch::Tensor> ChannelAffineRule::per_example_grads(models::TappedLayer& /*layer*/,
                                                                const torch::Tensor& a,
                                                                const torch::Tensor& g) const {
  const auto g3 = by_channel(g);
  return {(g3 * by_channel(a)).sum(2), g3.sum(2)};
}

bool ChannelAffineRule::materializing_is_cheaper(models::TappedLayer& /*layer*/,
                                                 const torch::Tensor& /*a*/,
                                                 const torch::Tensor& /*g*/) const {
  // The norm is computed from the per-example gradients anyway.
  return true;
}

torch::Tensor ChannelAffineRule::per_example_sq_norms(models::TappedLayer& layer,
                                                      const torch::Tensor& a,
                                                      const torch::Tensor& g) const {
  const auto grads = per_example_grads(layer, a, g);
  return torch::stack({grads[0].pow(2).sum(1), grads[1].pow(2).sum(1)}, 1);
}

std::vector<torch::Tensor> ChannelAffineRule::weighted_grad_sum(
    models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g,
    const torch::Tensor& weights) const {
  const auto grads = per_example_grads(layer, a, g);
  const auto w = weights.to(g.scalar_type());
  return {w.select(1, 0).matmul(grads[0]), w.select(1, 1).matmul(grads[1])};
}

}  // namespace dpsgd::privacy
