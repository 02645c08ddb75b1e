#include "dpsgd/privacy/per_example/clip_whole_gradient.hpp"

#include "dpsgd/privacy/per_example/finite_examples.hpp"
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
  auto clip = clip_factors(clipper, sq_norms);
  // A non-finite gradient adds nothing (finite_examples.hpp): skipped, not
  // multiplied by 0, which would add NaN.
  if (clip.any_excluded) return {sq_norms, clip.factors};
  for (std::size_t k = 0; k < grads.size(); ++k) {
    sums[k].add_(grads[k] *
                 clip.factors[0][static_cast<std::int64_t>(k)].to(grads[k].scalar_type()));
  }
  return {sq_norms, clip.factors};
}

}  // namespace dpsgd::privacy
