#pragma once
// Records each tapped layer's input activation a and output gradient g during
// one forward/backward, by routing the layer through a custom autograd Function
// whose backward stores (a, g) and returns only the input gradient: the batch
// weight gradient, which DP-SGD never uses, is not computed at all, so a private
// step is one forward and one backward pass (plus the norm/sum products).
// Installing is scoped: the destructor removes the taps again.
#include <vector>

#include "dpsgd/models/layers/layer_tap.hpp"
#include "dpsgd/privacy/private_model.hpp"

namespace dpsgd::privacy {

struct CapturedPair {
  torch::Tensor activation;   ///< layer input, batch-first
  torch::Tensor output_grad;  ///< d(sum of per-example losses)/d(layer output)
};

class ActivationCapture final : public models::LayerTap {
 public:
  explicit ActivationCapture(const PrivateModel& model);
  ~ActivationCapture() override;
  ActivationCapture(const ActivationCapture&) = delete;
  ActivationCapture& operator=(const ActivationCapture&) = delete;

  torch::Tensor forward(models::TappedLayer& layer, const torch::Tensor& input) override;

  /// The pair of layer `index` (PrivateModel::layers order); throws if incomplete.
  [[nodiscard]] const CapturedPair& pair(std::size_t index) const;
  /// Drops stored tensors (call after each chunk to free memory).
  /// Drops layer `index`'s pair once nothing needs it (pair() then throws).
  void release(std::size_t index);
  void clear();

  /// Called from the autograd Function's backward.
  void store_grad(std::size_t index, const torch::Tensor& activation, const torch::Tensor& grad);
  [[nodiscard]] models::TappedLayer& layer(std::size_t index) const { return *layers_[index]; }

 private:
  std::vector<models::TappedLayer*> layers_;
  std::vector<CapturedPair> pairs_;
  std::vector<bool> forwarded_;
};

}  // namespace dpsgd::privacy
