#include "dpsgd/privacy/per_example/ws_conv2d_rule.hpp"

#include "dpsgd/models/layers/ws_conv2d.hpp"
#include "dpsgd/privacy/per_example/conv2d_products.hpp"
#include "dpsgd/privacy/per_example/im2col.hpp"

namespace dpsgd::privacy {
namespace {

models::WsConv2dImpl& as_ws(models::TappedLayer& layer) {
  return dynamic_cast<models::WsConv2dImpl&>(layer);
}

// The standardisation at the layer's current weight: w_hat (O x n) and sigma (O x 1).
struct Standardisation {
  torch::Tensor w_hat;
  torch::Tensor sigma;
  torch::Tensor kernel;  ///< w_hat in the weight's shape, what the convolution applies
};

Standardisation standardisation(const models::WsConv2dImpl& conv) {
  torch::NoGradGuard no_grad;
  const auto rows = conv.weight.flatten(1);
  const auto mean = rows.mean(1, /*keepdim=*/true);
  const auto sigma = (rows.var(1, /*unbiased=*/false, /*keepdim=*/true) + conv.eps()).sqrt();
  const auto w_hat = (rows - mean) / sigma;
  return {w_hat, sigma, w_hat.view_as(conv.weight)};
}

// J^T G = J G for gradients G (..., O, C/G, kh, kw) w.r.t. w_hat (header formula).
torch::Tensor pull_back(const Standardisation& s, const torch::Tensor& grads) {
  const auto shape = grads.sizes().vec();
  const auto flat = grads.flatten(-3);
  const auto w_hat = s.w_hat.to(flat.scalar_type());
  const auto out =
      (flat - flat.mean(-1, /*keepdim=*/true) - w_hat * (flat * w_hat).mean(-1, /*keepdim=*/true)) /
      s.sigma.to(flat.scalar_type());
  return out.view(shape);
}

}  // namespace

torch::Tensor WsConv2dRule::input_grad(models::TappedLayer& layer, const torch::Tensor& a,
                                       const torch::Tensor& g) const {
  auto& conv = as_ws(layer);
  const auto s = standardisation(conv);
  return std::get<0>(conv2d_backward(conv.options(), s.kernel, a, g, {true, false, false}));
}

std::vector<torch::Tensor> WsConv2dRule::per_example_grads(models::TappedLayer& layer,
                                                           const torch::Tensor& a,
                                                           const torch::Tensor& g) const {
  return per_group_grads(layer, a, g, 1);
}

std::vector<torch::Tensor> WsConv2dRule::per_group_grads(models::TappedLayer& layer,
                                                         const torch::Tensor& a,
                                                         const torch::Tensor& g,
                                                         std::int64_t views) const {
  auto& conv = as_ws(layer);
  const auto s = standardisation(conv);
  std::vector<torch::Tensor> out{
      pull_back(s, conv2d_per_group_weight_grads(conv.options(), s.kernel, a, g, views))};
  if (conv.bias.defined()) out.push_back(conv2d_per_group_bias_grads(g, views));
  return out;
}

bool WsConv2dRule::materializing_is_cheaper(models::TappedLayer& layer, const torch::Tensor& /*a*/,
                                            const torch::Tensor& g) const {
  auto& conv = as_ws(layer);
  return conv2d_materializing_is_cheaper(conv.options(), conv.weight, g);
}

// The ghost form in a numerically safe order. |G_o|^2 - (1.G_o)^2 / n cancels
// catastrophically in float32 when the patches share a large offset (ReLU
// outputs, a large GroupNorm shift): instead the Gram matrix is formed from
// patches centred on their own mean, whose product with g_o is G_o - mean(G_o)
// exactly, and w_hat_o . G_o comes from the same centred patches. The w_hat term is at most that
// (Cauchy-Schwarz, w_hat . 1 = 0), and where it removes more than half of it, the rounding of the
// difference could exceed float32's guarantee: the layer's norms are then taken from its
// per-example gradients instead (exact, only dearer). An underestimated norm
// would clip too little and break the sensitivity bound, so neither route
// tolerates a cancellation.
torch::Tensor WsConv2dRule::per_example_sq_norms(models::TappedLayer& layer, const torch::Tensor& a,
                                                 const torch::Tensor& g) const {
  auto& conv = as_ws(layer);
  const auto& o = conv.options();
  const auto s = standardisation(conv);
  const std::int64_t b = g.size(0);
  const auto n = static_cast<double>(s.w_hat.size(1));
  auto u = unfold_positions_by_group(  // B, G, T, d_g (patch order irrelevant here)
      a, PatchGeometry{o.kernel, o.stride, o.padding, o.dilation}, o.groups);
  u = u - u.mean(-1, /*keepdim=*/true);
  const auto gg = conv2d_grad_by_group(o, g);             // B, G, p_g, T
  const auto gram = torch::matmul(u, u.transpose(2, 3));  // B, G, T, T
  // |G_o - mean(G_o)|^2 per example and output channel: g_o^T (U_c U_c^T) g_o.
  const auto centred_sq =
      (torch::matmul(gg, gram) * gg).sum(-1).reshape({b, -1}).to(torch::kFloat64);
  // w_hat_o.G_o = sum_t g_o[t] (w_hat_o . centred patch t): w_hat_o . 1 = 0, so
  // centring changes nothing exactly, and in float32 it keeps the patches'
  // offset out of the product. w_hat is reordered to the patches' (kh, kw, c).
  const auto& k = o.kernel;
  const auto per_group = s.w_hat.size(0) / o.groups;
  const auto patch_order = s.w_hat.view({s.w_hat.size(0), -1, k[0], k[1]})
                               .permute({0, 2, 3, 1})
                               .reshape({o.groups, per_group, -1})
                               .to(u.scalar_type());
  const auto y = torch::matmul(u, patch_order.transpose(1, 2));  // B, G, T, p_g
  const auto w_dot = (gg * y.transpose(2, 3)).sum(-1).reshape({b, -1}).to(torch::kFloat64);
  const auto w_sq = s.w_hat.to(torch::kFloat64).pow(2).sum(1);  // O
  const auto removed = w_dot.pow(2) * (2.0 / n - w_sq / (n * n));
  if ((removed > 0.5 * centred_sq).any().item<bool>()) {
    std::vector<torch::Tensor> sq;
    for (const auto& grad : per_example_grads(layer, a, g)) sq.push_back(per_example_sq_norm(grad));
    return torch::stack(sq, 1);
  }
  const auto sigma_sq = s.sigma.squeeze(1).to(torch::kFloat64).pow(2);
  const auto per_channel = ((centred_sq - removed) / sigma_sq).clamp_min(0.0);
  const auto weight_sq = per_channel.sum(1).to(g.scalar_type());
  if (!conv.bias.defined()) return weight_sq.unsqueeze(1);
  return torch::stack({weight_sq, g.sum({2, 3}).pow(2).sum(1)}, 1);
}

std::vector<torch::Tensor> WsConv2dRule::weighted_grad_sum(models::TappedLayer& layer,
                                                           const torch::Tensor& a,
                                                           const torch::Tensor& g,
                                                           const torch::Tensor& weights) const {
  auto& conv = as_ws(layer);
  const auto s = standardisation(conv);
  const auto w = weights.to(g.scalar_type());
  const auto scaled = g * w.select(1, 0).view({-1, 1, 1, 1});
  const auto sum_hat =
      std::get<1>(conv2d_backward(conv.options(), s.kernel, a, scaled, {false, true, false}));
  std::vector<torch::Tensor> out{pull_back(s, sum_hat)};
  if (conv.bias.defined()) out.push_back((g.sum({2, 3}) * w.select(1, 1).view({-1, 1})).sum(0));
  return out;
}

}  // namespace dpsgd::privacy
