#pragma once
// The TF Privacy MNIST tutorial CNN (Abadi et al. 2016 style), as used by
// Tramer & Boneh (ICLR 2021) for Fashion-MNIST:
//   conv 16 8x8 stride 2 ("same": padding 3) -> act -> maxpool 2 stride 1
//   conv 32 4x4 stride 2 (valid)            -> act -> maxpool 2 stride 1
//   flatten (32*4*4) -> fc 32 -> act -> fc 10 (logits)
// The tanh variant is Tramer & Boneh's choice: bounded activations help under clipping.
#include "dpsgd/models/layers/conv2d.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/model.hpp"

namespace dpsgd::models {

enum class Activation { kRelu, kTanh };

class TfCnn final : public Model {
 public:
  TfCnn(Activation activation, std::int64_t in_channels, std::int64_t num_classes);
  torch::Tensor forward(const torch::Tensor& input) override;
  /// The 32 activations after fc1.
  torch::Tensor penultimate(const torch::Tensor& input) override;

 private:
  torch::Tensor act(const torch::Tensor& x) const;
  Activation activation_;
  Conv2d conv1_{nullptr};
  Conv2d conv2_{nullptr};
  Linear fc1_{nullptr};
  Linear fc2_{nullptr};
};

}  // namespace dpsgd::models
