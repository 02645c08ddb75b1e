#include "dpsgd/privacy/per_example/finite_examples.hpp"

namespace dpsgd::privacy {

ClipFactors clip_factors(const Clipper& clipper, const torch::Tensor& sq_norms) {
  ClipFactors out;
  out.finite = torch::isfinite(sq_norms).all(1);
  // The one host read: it lets the engines skip the zeroing copies when every
  // example is finite, the normal case.
  out.any_excluded = !out.finite.all().item<bool>();
  if (!out.any_excluded) {
    out.factors = clipper.factors(sq_norms);
    return out;
  }
  const auto keep = out.finite.unsqueeze(1);
  const auto safe = torch::where(keep, sq_norms, torch::zeros_like(sq_norms));
  const auto factors = clipper.factors(safe);
  out.factors = torch::where(keep.expand_as(factors), factors, torch::zeros_like(factors));
  return out;
}

torch::Tensor zero_excluded(const torch::Tensor& rows, const ClipFactors& clip) {
  if (!clip.any_excluded || !rows.is_floating_point()) return rows;
  std::vector<std::int64_t> shape(static_cast<std::size_t>(rows.dim()), 1);
  shape[0] = rows.size(0);
  const auto keep = clip.finite.to(rows.device()).view(shape);
  return torch::where(keep, rows, torch::zeros({}, rows.options()));
}

}  // namespace dpsgd::privacy
