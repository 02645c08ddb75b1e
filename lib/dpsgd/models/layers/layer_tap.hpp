#pragma once
// The seam between models and the privacy layer. Trainable layers of the model
// zoo are TappedLayers: their forward goes through an optional LayerTap that the
// privacy layer installs to record each layer's input activation and output
// gradient. Models never know whether they are being tapped, so any model works
// with any per-example gradient method, and LibTorch's C++ frontend (which has no
// module hooks) still lets us see (activation, output gradient) pairs.
#include <string>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::models {

/// The trainable layer types with per-example gradient support. GroupNorm and
/// LayerNorm are a parameter-free normalisation (plain autograd) followed by a
/// tapped affine, so their kinds are the affines': the affine's input is the
/// normalised activation its per-example gradient needs.
enum class LayerKind {
  kLinear,
  kConv2d,
  kWsConv2d,  ///< weight-standardised Conv2d: a Conv2d of a reparametrised weight
  kConvTranspose2d,
  kEmbedding,
  kChannelAffine,      ///< GroupNorm's per-channel affine
  kElementwiseAffine,  ///< LayerNorm's elementwise affine
};

class TappedLayer;

/// Installed on a TappedLayer by the privacy layer for the duration of a step.
class LayerTap {
 public:
  virtual ~LayerTap() = default;
  /// Must return the same value as layer.plain_forward(input).
  virtual torch::Tensor forward(TappedLayer& layer, const torch::Tensor& input) = 0;
};

class TappedLayer {
 public:
  virtual ~TappedLayer() = default;
  [[nodiscard]] virtual LayerKind kind() const = 0;
  /// The layer's computation without a tap: what plain autograd differentiates.
  virtual torch::Tensor plain_forward(const torch::Tensor& input) = 0;
  /// Trainable parameters in a fixed order (weight, then bias when present).
  virtual std::vector<torch::Tensor> layer_parameters() = 0;
  /// Human-readable description for error messages, e.g. "Conv2d(1, 16, k=8, s=2)".
  [[nodiscard]] virtual std::string describe() const = 0;

  /// Not owning: the privacy layer keeps the tap alive while it is installed.
  void set_tap(LayerTap* tap) { tap_ = tap; }

 protected:
  torch::Tensor tapped_forward(const torch::Tensor& input) {
    return tap_ != nullptr ? tap_->forward(*this, input) : plain_forward(input);
  }

 private:
  LayerTap* tap_ = nullptr;
};

}  // namespace dpsgd::models
