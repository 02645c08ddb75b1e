#include "dpsgd/privacy/per_example/linear_rule.hpp"

#include "dpsgd/models/layers/linear.hpp"

namespace dpsgd::privacy {
namespace {

models::LinearImpl& as_linear(models::TappedLayer& layer) {
  return dynamic_cast<models::LinearImpl&>(layer);
}

// (B, T, d) views with T = product of the middle dimensions (1 for 2-D inputs).
torch::Tensor as_sequence(const torch::Tensor& x) { return x.reshape({x.size(0), -1, x.size(-1)}); }

}  // namespace

torch::Tensor LinearRule::input_grad(models::TappedLayer& layer, const torch::Tensor& /*a*/,
                                     const torch::Tensor& g) const {
  return g.matmul(as_linear(layer).weight);
}

std::vector<torch::Tensor> LinearRule::per_example_grads(models::TappedLayer& layer,
                                                         const torch::Tensor& a,
                                                         const torch::Tensor& g) const {
  auto& lin = as_linear(layer);
  const auto a3 = as_sequence(a);
  const auto g3 = as_sequence(g);
  std::vector<torch::Tensor> out{torch::bmm(g3.transpose(1, 2), a3)};
  if (lin.bias.defined()) out.push_back(g3.sum(1));
  return out;
}

bool LinearRule::materializing_is_cheaper(models::TappedLayer& /*layer*/, const torch::Tensor& a,
                                          const torch::Tensor& g) const {
  // T = 1 has a closed form cheaper than either.
  std::int64_t t = 1;  // the product of the middle dimensions, read without a reshape
  for (std::int64_t k = 1; k + 1 < a.dim(); ++k) t *= a.size(k);
  return t > 1 && t * t >= g.size(-1) * a.size(-1);
}

torch::Tensor LinearRule::per_example_sq_norms(models::TappedLayer& layer, const torch::Tensor& a,
                                               const torch::Tensor& g) const {
  auto& lin = as_linear(layer);
  const auto a3 = as_sequence(a);
  const auto g3 = as_sequence(g);
  const std::int64_t t = a3.size(1);
  torch::Tensor weight_sq;
  if (t == 1) {  // ||g a^T||^2 = ||g||^2 ||a||^2
    weight_sq = g3.squeeze(1).pow(2).sum(1) * a3.squeeze(1).pow(2).sum(1);
  } else {
    const auto aa = torch::bmm(a3, a3.transpose(1, 2));
    const auto gg = torch::bmm(g3, g3.transpose(1, 2));
    weight_sq = (aa * gg).sum({1, 2});
  }
  if (!lin.bias.defined()) return weight_sq.unsqueeze(1);
  return torch::stack({weight_sq, g3.sum(1).pow(2).sum(1)}, 1);
}

std::vector<torch::Tensor> LinearRule::weighted_grad_sum(models::TappedLayer& layer,
                                                         const torch::Tensor& a,
                                                         const torch::Tensor& g,
                                                         const torch::Tensor& weights) const {
  auto& lin = as_linear(layer);
  const auto a3 = as_sequence(a);
  const auto g3 = as_sequence(g);
  const auto w = weights.to(g3.scalar_type());
  const auto gw = (g3 * w.select(1, 0).view({-1, 1, 1})).reshape({-1, g3.size(2)});
  std::vector<torch::Tensor> out{gw.t().mm(a3.reshape({-1, a3.size(2)}))};
  if (lin.bias.defined()) out.push_back((g3.sum(1) * w.select(1, 1).view({-1, 1})).sum(0));
  return out;
}

}  // namespace dpsgd::privacy
