#include "dpsgd/models/objective.hpp"

namespace dpsgd::models {

torch::Tensor CrossEntropyObjective::per_example_loss(const torch::Tensor& output,
                                                      const torch::Tensor& target) const {
  return -torch::log_softmax(output, 1).gather(1, target.view({-1, 1})).squeeze(1);
}

torch::Tensor CrossEntropyObjective::per_example_score(const torch::Tensor& output,
                                                       const torch::Tensor& target) const {
  return output.argmax(1).eq(target).to(output.scalar_type());
}

}  // namespace dpsgd::models
