#pragma once
// Base class of every model in the zoo: a module mapping a batch of inputs to
// logits. Models return logits (never probabilities): the loss applies
// log-softmax exactly once (see objective.hpp).
#include <torch/torch.h>

namespace dpsgd::models {

class Model : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
};

using ModelPtr = std::shared_ptr<Model>;

}  // namespace dpsgd::models
