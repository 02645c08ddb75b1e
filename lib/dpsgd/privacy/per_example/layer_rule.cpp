#include "dpsgd/privacy/per_example/layer_rule.hpp"

#include <stdexcept>

#include "dpsgd/privacy/per_example/channel_affine_rule.hpp"
#include "dpsgd/privacy/per_example/conv2d_rule.hpp"
#include "dpsgd/privacy/per_example/conv_transpose2d_rule.hpp"
#include "dpsgd/privacy/per_example/elementwise_affine_rule.hpp"
#include "dpsgd/privacy/per_example/embedding_rule.hpp"
#include "dpsgd/privacy/per_example/linear_rule.hpp"
#include "dpsgd/privacy/per_example/ws_conv2d_rule.hpp"

namespace dpsgd::privacy {

const LayerRule& rule_for(models::LayerKind kind) {
  static const LinearRule linear;
  static const Conv2dRule conv2d;
  static const WsConv2dRule ws_conv2d;
  static const ConvTranspose2dRule conv_transpose2d;
  static const EmbeddingRule embedding;
  static const ChannelAffineRule channel_affine;
  static const ElementwiseAffineRule elementwise_affine;
  switch (kind) {
    case models::LayerKind::kLinear:
      return linear;
    case models::LayerKind::kConv2d:
      return conv2d;
    case models::LayerKind::kWsConv2d:
      return ws_conv2d;
    case models::LayerKind::kConvTranspose2d:
      return conv_transpose2d;
    case models::LayerKind::kEmbedding:
      return embedding;
    case models::LayerKind::kChannelAffine:
      return channel_affine;
    case models::LayerKind::kElementwiseAffine:
      return elementwise_affine;
  }
  throw std::logic_error("no per-example rule for this layer kind");
}

std::vector<torch::Tensor> LayerRule::per_group_grads(models::TappedLayer& layer,
                                                      const torch::Tensor& a,
                                                      const torch::Tensor& g,
                                                      std::int64_t views) const {
  auto grads = per_example_grads(layer, a, g);
  if (views == 1) return grads;
  for (auto& grad : grads) {
    auto shape = grad.sizes().vec();
    shape[0] /= views;
    shape.insert(shape.begin() + 1, views);
    grad = grad.view(shape).sum(1);
  }
  return grads;
}

torch::Tensor per_example_sq_norm(const torch::Tensor& grads) {
  return grads.flatten(1).pow(2).sum(1);
}

torch::Tensor weighted_example_sum(const torch::Tensor& weights, const torch::Tensor& grads) {
  return torch::tensordot(weights.to(grads.scalar_type()), grads, {0}, {0});
}

}  // namespace dpsgd::privacy
