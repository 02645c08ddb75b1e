#pragma once
// A linear classifier on flattened inputs: logits = W x + b. On fixed features
// (ScatterNet, a public backbone) this is the private head of Tramer & Boneh
// (ICLR 2021) and Mehta et al. (TMLR 2023). With zero_init the weights and bias
// start at 0, which Mehta et al. recommend for private training of the last
// layer: every logit starts equal, and no random start competes with the signal.
#include <cstdint>

#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/model.hpp"

namespace dpsgd::models {

class LinearModel final : public Model {
 public:
  LinearModel(std::int64_t in_features, std::int64_t num_classes, bool zero_init);
  torch::Tensor forward(const torch::Tensor& input) override;
  /// The flattened input: a linear model's last layer reads its input.
  torch::Tensor penultimate(const torch::Tensor& input) override { return input.flatten(1); }

 private:
  Linear fc_{nullptr};
};

}  // namespace dpsgd::models
