#pragma once
// Base class of every model in the zoo: a module mapping a batch of inputs to
// logits. Models return logits (never probabilities): the loss applies
// log-softmax exactly once (see objective.hpp).
#include <stdexcept>

#include <torch/torch.h>

namespace dpsgd::models {

class Model : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
  /// The activations the last layer reads (N x D): what a model trained on public
  /// data hands a private head as fixed features (features/trained_model_extractor).
  virtual torch::Tensor penultimate(const torch::Tensor& /*input*/) {
    throw std::invalid_argument("this model has no penultimate-layer output");
  }
};

using ModelPtr = std::shared_ptr<Model>;

}  // namespace dpsgd::models
