#include "dpsgd/privacy/per_example/clip_whole_gradient.hpp"

#include "dpsgd/privacy/per_example/gradient_engine.hpp"

namespace dpsgd::privacy {

ClippedGradient clip_and_add(const Clipper& clipper, const std::vector<torch::Tensor>& params,
                             std::vector<torch::Tensor>& grads, std::vector<torch::Tensor>& sums) {
  std::vector<torch::Tensor> sq;
  for (std::size_t k = 0; k < grads.size(); ++k) {
    if (!grads[k].defined()) grads[k] = torch::zeros_like(params[k]);
    apply_coordinate_mask(clipper, k, grads[k]);
    sq.push_back(grads[k].pow(2).sum().view({1}));
  }
  auto sq_norms = torch::stack(sq, 1);  // (1, P)
  auto factors = clipper.factors(sq_norms);
  for (std::size_t k = 0; k < grads.size(); ++k) {
    sums[k].add_(grads[k] * factors[0][static_cast<std::int64_t>(k)].to(grads[k].scalar_type()));
  }
  return {sq_norms, factors};
}

}  // namespace dpsgd::privacy
