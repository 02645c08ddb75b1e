#pragma once
// A multilayer perceptron on the flattened input:
//   flatten -> [Linear(prev -> h) -> relu] for h in model.hidden -> Linear(last -> classes)
// The plain fully connected baseline of DP-SGD studies (Abadi et al. 2016 train
// one on PCA-projected MNIST). With model.hidden empty it is the linear model.
#include <vector>

#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/models/zoo/model_options.hpp"

namespace dpsgd::models {

class Mlp final : public Model {
 public:
  /// Reads in_features, hidden and num_classes; std::invalid_argument naming the
  /// key for a width below 1.
  explicit Mlp(const ModelOptions& options);
  torch::Tensor forward(const torch::Tensor& input) override;
  /// The last hidden layer's activations (the flattened input without hidden layers).
  torch::Tensor penultimate(const torch::Tensor& input) override;

 private:
  std::vector<Linear> hidden_;
  Linear head_{nullptr};
};

}  // namespace dpsgd::models
