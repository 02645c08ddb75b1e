#pragma once
// Layer normalisation (Ba, Kiros & Hinton 2016): each example is normalised over
// its last dimensions (`normalized_shape`) by its own mean and variance, then an
// optional elementwise affine. Statistics are per example (per position), so it
// never mixes the examples of a batch and per-example gradients exist.
//
// Built as the parameter-free normalisation (plain autograd, which carries the
// gradient through the statistics to earlier layers) followed by a tapped
// ElementwiseAffine: x_hat = layer_norm(x), y = x_hat * w + b. The affine's input
// x_hat is then what the capture records.
#include "dpsgd/models/layers/elementwise_affine.hpp"

namespace dpsgd::models {

struct LayerNormOptions {
  std::vector<std::int64_t> normalized_shape{1};
  double eps = 1e-5;
  bool elementwise_affine = true;
  bool bias = true;  ///< only with elementwise_affine
};

/// Not a TappedLayer itself: without the affine it has no parameters at all.
class LayerNormImpl : public torch::nn::Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);

  torch::Tensor forward(const torch::Tensor& input);
  [[nodiscard]] const LayerNormOptions& options() const { return options_; }

  ElementwiseAffine affine{nullptr};  ///< null when options.elementwise_affine is false

 private:
  LayerNormOptions options_;
};
TORCH_MODULE(LayerNorm);

}  // namespace dpsgd::models
