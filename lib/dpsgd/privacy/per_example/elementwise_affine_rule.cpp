#include "dpsgd/privacy/per_example/elementwise_affine_rule.hpp"

#include "dpsgd/models/layers/elementwise_affine.hpp"

namespace dpsgd::privacy {
namespace {

models::ElementwiseAffineImpl& as_affine(models::TappedLayer& layer) {
  return dynamic_cast<models::ElementwiseAffineImpl&>(layer);
}

// (B, L, |S|) view: L = product of the leading non-batch dimensions (1 if none).
torch::Tensor as_rows(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.reshape({x.size(0), -1, weight.numel()});
}

// (B, |S|) per-example gradient back to (B, *S).
torch::Tensor per_example_shape(const torch::Tensor& flat, const torch::Tensor& weight) {
  std::vector<std::int64_t> shape{flat.size(0)};
  shape.insert(shape.end(), weight.sizes().begin(), weight.sizes().end());
  return flat.view(shape);
}

// (B, |S|) each: the per-example gradients of weight and (when present) bias.
std::vector<torch::Tensor> flat_grads(models::ElementwiseAffineImpl& affine, const torch::Tensor& a,
                                      const torch::Tensor& g) {
  const auto g3 = as_rows(g, affine.weight);
  std::vector<torch::Tensor> out{(g3 * as_rows(a, affine.weight)).sum(1)};
  if (affine.bias.defined()) out.push_back(g3.sum(1));
  return out;
}

}  // namespace

torch::Tensor ElementwiseAffineRule::input_grad(models::TappedLayer& layer,
                                                const torch::Tensor& /*a*/,
                                                const torch::Tensor& g) const {
  return g * as_affine(layer).weight;
}

std::vector<torch::Tensor> ElementwiseAffineRule::per_example_grads(models::TappedLayer& layer,
                                                                    const torch::Tensor& a,
                                                                    const torch::Tensor& g) const {
  auto& affine = as_affine(layer);
  auto out = flat_grads(affine, a, g);
  for (auto& t : out) t = per_example_shape(t, affine.weight);
  return out;
}

bool ElementwiseAffineRule::materializing_is_cheaper(models::TappedLayer& /*layer*/,
                                                     const torch::Tensor& /*a*/,
                                                     const torch::Tensor& /*g*/) const {
  // The norm is computed from the per-example gradients anyway.
  return true;
}

torch::Tensor ElementwiseAffineRule::per_example_sq_norms(models::TappedLayer& layer,
                                                          const torch::Tensor& a,
                                                          const torch::Tensor& g) const {
  std::vector<torch::Tensor> sq;
  for (const auto& t : flat_grads(as_affine(layer), a, g)) sq.push_back(t.pow(2).sum(1));
  return torch::stack(sq, 1);
}

std::vector<torch::Tensor> ElementwiseAffineRule::weighted_grad_sum(
    models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g,
    const torch::Tensor& weights) const {
  auto& affine = as_affine(layer);
  const auto w = weights.to(g.scalar_type());
  auto out = flat_grads(affine, a, g);
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k] = w.select(1, static_cast<std::int64_t>(k)).matmul(out[k]).view(affine.weight.sizes());
  }
  return out;
}

}  // namespace dpsgd::privacy
