#include "dpsgd/privacy/per_example/conv_transpose2d_rule.hpp"

#include "dpsgd/models/layers/conv_transpose2d.hpp"
#include "dpsgd/privacy/per_example/im2col.hpp"

namespace dpsgd::privacy {
namespace {

models::ConvTranspose2dImpl& as_conv(models::TappedLayer& layer) {
  return dynamic_cast<models::ConvTranspose2dImpl&>(layer);
}

// (B, G, d_g, T): the output gradient unfolded with the adjoint conv's geometry,
// one column per input position (T = H_in W_in), split by group.
torch::Tensor unfold_grad(const models::ConvTranspose2dImpl& conv, const torch::Tensor& a,
                          const torch::Tensor& g) {
  const auto& o = conv.options();
  return unfold_by_group(g, PatchGeometry{o.kernel, o.stride, o.padding, o.dilation}, o.groups,
                         {a.size(2), a.size(3)});
}

// (B, G, p_g, T): the input, split by group.
torch::Tensor input_by_group(const models::ConvTranspose2dImpl& conv, const torch::Tensor& a) {
  return a.reshape({a.size(0), conv.options().groups, a.size(1) / conv.options().groups, -1});
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv_backward(
    const models::ConvTranspose2dImpl& conv, const torch::Tensor& a, const torch::Tensor& g,
    std::array<bool, 3> mask) {
  const auto& o = conv.options();
  return at::convolution_backward(g, a, conv.weight, c10::nullopt, {o.stride[0], o.stride[1]},
                                  {o.padding[0], o.padding[1]}, {o.dilation[0], o.dilation[1]},
                                  /*transposed=*/true, {o.output_padding[0], o.output_padding[1]},
                                  o.groups, mask);
}

}  // namespace

torch::Tensor ConvTranspose2dRule::input_grad(models::TappedLayer& layer, const torch::Tensor& a,
                                              const torch::Tensor& g) const {
  return std::get<0>(conv_backward(as_conv(layer), a, g, {true, false, false}));
}

std::vector<torch::Tensor> ConvTranspose2dRule::per_example_grads(models::TappedLayer& layer,
                                                                  const torch::Tensor& a,
                                                                  const torch::Tensor& g) const {
  auto& conv = as_conv(layer);
  const auto u = unfold_grad(conv, a, g);              // B, G, d_g, T
  const auto x = input_by_group(conv, a);              // B, G, p_g, T
  const auto w = torch::matmul(x, u.transpose(2, 3));  // B, G, p_g, d_g
  std::vector<torch::Tensor> out{w.reshape({a.size(0), conv.weight.size(0), conv.weight.size(1),
                                            conv.weight.size(2), conv.weight.size(3)})};
  if (conv.bias.defined()) out.push_back(g.sum({2, 3}));
  return out;
}

bool ConvTranspose2dRule::materializing_is_cheaper(models::TappedLayer& layer,
                                                   const torch::Tensor& a,
                                                   const torch::Tensor& /*g*/) const {
  // Roles swap against Conv2d: T = H_in W_in input positions, p = C_in/G, d = C_out/G kh kw.
  auto& conv = as_conv(layer);
  const std::int64_t t = a.size(2) * a.size(3);
  const std::int64_t p = a.size(1) / conv.options().groups;
  const std::int64_t d = conv.weight.size(1) * conv.weight.size(2) * conv.weight.size(3);
  return t * t >= p * d;
}

torch::Tensor ConvTranspose2dRule::per_example_sq_norms(models::TappedLayer& layer,
                                                        const torch::Tensor& a,
                                                        const torch::Tensor& g) const {
  auto& conv = as_conv(layer);
  const auto& o = conv.options();
  const auto u = unfold_positions_by_group(  // B, G, T, d_g
      g, PatchGeometry{o.kernel, o.stride, o.padding, o.dilation}, o.groups,
      {a.size(2), a.size(3)});
  const auto x = input_by_group(conv, a);
  const auto xx = torch::matmul(x.transpose(2, 3), x);  // B, G, T, T
  const auto uu = torch::matmul(u, u.transpose(2, 3));  // B, G, T, T
  const auto weight_sq = (xx * uu).sum({1, 2, 3});
  if (!conv.bias.defined()) return weight_sq.unsqueeze(1);
  return torch::stack({weight_sq, g.sum({2, 3}).pow(2).sum(1)}, 1);
}

std::vector<torch::Tensor> ConvTranspose2dRule::weighted_grad_sum(
    models::TappedLayer& layer, const torch::Tensor& a, const torch::Tensor& g,
    const torch::Tensor& weights) const {
  auto& conv = as_conv(layer);
  const auto w = weights.to(g.scalar_type());
  const auto scaled = g * w.select(1, 0).view({-1, 1, 1, 1});
  std::vector<torch::Tensor> out{std::get<1>(conv_backward(conv, a, scaled, {false, true, false}))};
  if (conv.bias.defined()) out.push_back((g.sum({2, 3}) * w.select(1, 1).view({-1, 1})).sum(0));
  return out;
}

}  // namespace dpsgd::privacy
