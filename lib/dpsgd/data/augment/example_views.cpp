#include "dpsgd/data/augment/example_views.hpp"

#include <stdexcept>
#include <string>

namespace dpsgd::data {
namespace {

// Source index of each output position: position j of a crop at offset d in
// the image padded by p reads k = d + j - p, reflected into [0, size) (the
// border row itself is not repeated, as torch's reflection padding).
torch::Tensor reflected_index(const torch::Tensor& offsets, std::int64_t size, std::int64_t p) {
  auto k = offsets.unsqueeze(1) + torch::arange(size, offsets.options()).unsqueeze(0) - p;
  k = torch::where(k < 0, -k, k);
  return torch::where(k >= size, 2 * (size - 1) - k, k);
}

// Gathers rows (n, H) then columns (n, W) of t (n, ..., H, W).
torch::Tensor take(const torch::Tensor& t, const torch::Tensor& rows, const torch::Tensor& cols) {
  auto shape = t.sizes().vec();
  const auto d = static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> row_shape(shape.size(), 1);
  row_shape[0] = shape[0];
  row_shape[d - 2] = shape[d - 2];
  auto row_index = rows.view(row_shape).expand(shape);
  auto out = t.gather(d - 2, row_index);
  std::vector<std::int64_t> col_shape(shape.size(), 1);
  col_shape[0] = shape[0];
  col_shape[d - 1] = shape[d - 1];
  return out.gather(d - 1, cols.view(col_shape).expand(shape));
}

}  // namespace

ViewTransforms ViewTransforms::slice(std::int64_t first, std::int64_t count) const {
  return {dy.narrow(0, first, count), dx.narrow(0, first, count), flip.narrow(0, first, count)};
}

ViewTransforms draw_view_transforms(std::int64_t n, const ViewOptions& options,
                                    at::Generator& rng) {
  const std::int64_t p = options.crop_padding;
  const auto cpu = torch::TensorOptions().dtype(torch::kLong);
  ViewTransforms t;
  t.dy = torch::randint(0, 2 * p + 1, {n}, rng, cpu);
  t.dx = torch::randint(0, 2 * p + 1, {n}, rng, cpu);
  t.flip = options.hflip ? torch::rand({n}, rng, torch::kFloat32).lt(0.5)
                         : torch::zeros({n}, torch::kBool);
  return t;
}

std::pair<torch::Tensor, torch::Tensor> apply_views(const torch::Tensor& x, const torch::Tensor& y,
                                                    const ViewTransforms& transforms,
                                                    const ViewOptions& options) {
  const std::int64_t k = options.views;
  const std::int64_t p = options.crop_padding;
  const std::int64_t h = x.size(-2);
  const std::int64_t w = x.size(-1);
  if (k < 1) throw std::invalid_argument("apply_views: views must be >= 1");
  if (p < 0 || p >= h || p >= w) {
    throw std::invalid_argument("apply_views: crop padding " + std::to_string(p) +
                                " must be in [0, image side) for reflection");
  }
  if (transforms.size() != x.size(0) * k) {
    throw std::invalid_argument("apply_views: " + std::to_string(transforms.size()) +
                                " transformations for " + std::to_string(x.size(0) * k) + " views");
  }
  auto rows = reflected_index(transforms.dy, h, p);
  auto cols = reflected_index(transforms.dx, w, p);
  cols = torch::where(transforms.flip.unsqueeze(1), (w - 1) - cols, cols);
  rows = rows.to(x.device());
  cols = cols.to(x.device());
  const auto xs = k == 1 ? x : x.repeat_interleave(k, 0);
  const auto ys = k == 1 ? y : y.repeat_interleave(k, 0);
  auto xv = take(xs, rows, cols);
  if (ys.dim() < 3) return {xv, ys};  // class labels do not move
  return {xv, take(ys, rows, cols)};
}

std::pair<torch::Tensor, torch::Tensor> make_views(const torch::Tensor& x, const torch::Tensor& y,
                                                   const ViewOptions& options, at::Generator& rng) {
  return apply_views(x, y, draw_view_transforms(x.size(0) * options.views, options, rng), options);
}

}  // namespace dpsgd::data
