#include "dpsgd/heads/linear_head.hpp"

namespace dpsgd::heads {

torch::Tensor logits(const LinearHead& head, const torch::Tensor& features) {
  const auto x = features.to(head.weight.options());
  return torch::addmm(head.bias, x, head.weight.t());
}

}  // namespace dpsgd::heads
