#include "dpsgd/privacy/per_example/conv2d_rule.hpp"

#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/privacy/per_example/conv2d_products.hpp"
#include "dpsgd/privacy/per_example/im2col.hpp"

namespace dpsgd::privacy {
namespace {

models::Conv2dImpl& as_conv(models::TappedLayer& layer) {
  return dynamic_cast<models::Conv2dImpl&>(layer);
}

}  // namespace

torch::Tensor Conv2dRule::input_grad(models::TappedLayer& layer, const torch::Tensor& a,
                                     const torch::Tensor& g) const {
  return std::get<0>(
      conv2d_backward(as_conv(layer).options(), as_conv(layer).weight, a, g, {true, false, false}));
}

std::vector<torch::Tensor> Conv2dRule::per_example_grads(models::TappedLayer& layer,
                                                         const torch::Tensor& a,
                                                         const torch::Tensor& g) const {
  auto& conv = as_conv(layer);
  std::vector<torch::Tensor> out{
      conv2d_per_example_weight_grads(conv.options(), conv.weight, a, g)};
  if (conv.bias.defined()) out.push_back(g.sum({2, 3}));
  return out;
}

std::vector<torch::Tensor> Conv2dRule::per_group_grads(models::TappedLayer& layer,
                                                       const torch::Tensor& a,
                                                       const torch::Tensor& g,
                                                       std::int64_t views) const {
  if (views == 1) return per_example_grads(layer, a, g);
  auto& conv = as_conv(layer);
  std::vector<torch::Tensor> out{
      conv2d_per_group_weight_grads(conv.options(), conv.weight, a, g, views)};
  if (conv.bias.defined()) out.push_back(conv2d_per_group_bias_grads(g, views));
  return out;
}

bool Conv2dRule::materializing_is_cheaper(models::TappedLayer& layer, const torch::Tensor& /*a*/,
                                          const torch::Tensor& g) const {
  auto& conv = as_conv(layer);
  return conv2d_materializing_is_cheaper(conv.options(), conv.weight, g);
}

torch::Tensor Conv2dRule::per_example_sq_norms(models::TappedLayer& layer, const torch::Tensor& a,
                                               const torch::Tensor& g) const {
  auto& conv = as_conv(layer);
  const auto& o = conv.options();
  const auto u = unfold_positions_by_group(  // B, G, T, d_g
      a, PatchGeometry{o.kernel, o.stride, o.padding, o.dilation}, o.groups);
  const auto gg = conv2d_grad_by_group(o, g);              // B, G, p_g, T
  const auto uu = torch::matmul(u, u.transpose(2, 3));     // B, G, T, T
  const auto ggt = torch::matmul(gg.transpose(2, 3), gg);  // B, G, T, T
  const auto weight_sq = (uu * ggt).sum({1, 2, 3});
  if (!conv.bias.defined()) return weight_sq.unsqueeze(1);
  return torch::stack({weight_sq, g.sum({2, 3}).pow(2).sum(1)}, 1);
}

std::vector<torch::Tensor> Conv2dRule::weighted_grad_sum(models::TappedLayer& layer,
                                                         const torch::Tensor& a,
                                                         const torch::Tensor& g,
                                                         const torch::Tensor& weights) const {
  auto& conv = as_conv(layer);
  const auto w = weights.to(g.scalar_type());
  const auto scaled = g * w.select(1, 0).view({-1, 1, 1, 1});
  std::vector<torch::Tensor> out{
      std::get<1>(conv2d_backward(conv.options(), conv.weight, a, scaled, {false, true, false}))};
  if (conv.bias.defined()) out.push_back((g.sum({2, 3}) * w.select(1, 1).view({-1, 1})).sum(0));
  return out;
}

}  // namespace dpsgd::privacy
