#include "dpsgd/privacy/per_example/im2col.hpp"

#include <stdexcept>

namespace dpsgd::privacy {

std::array<std::int64_t, 2> patch_grid_size(const PatchGeometry& geometry, std::int64_t height,
                                            std::int64_t width) {
  const auto& o = geometry;
  return {(height + 2 * o.padding[0] - o.dilation[0] * (o.kernel[0] - 1) - 1) / o.stride[0] + 1,
          (width + 2 * o.padding[1] - o.dilation[1] * (o.kernel[1] - 1) - 1) / o.stride[1] + 1};
}

namespace {

void check_grid(const PatchGeometry& geometry, const torch::Tensor& x,
                const std::array<std::int64_t, 2>& grid) {
  const auto fits = patch_grid_size(geometry, x.size(2), x.size(3));
  if (grid[0] > fits[0] || grid[1] > fits[1] || grid[0] < 0 || grid[1] < 0) {
    // as_strided would read past the end of the padded map.
    throw std::logic_error("unfold: more kernel positions requested than fit");
  }
}

}  // namespace

torch::Tensor unfold_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                              std::int64_t groups, const std::array<std::int64_t, 2>& grid) {
  const auto& o = geometry;
  check_grid(o, x, grid);
  const auto padded =
      torch::constant_pad_nd(x, {o.padding[1], o.padding[1], o.padding[0], o.padding[0]})
          .contiguous();
  const std::int64_t b = padded.size(0);
  const std::int64_t c = padded.size(1);
  const auto st = padded.strides();
  const auto patches =
      padded.as_strided({b, c, o.kernel[0], o.kernel[1], grid[0], grid[1]},
                        {st[0], st[1], st[2] * o.dilation[0], st[3] * o.dilation[1],
                         st[2] * o.stride[0], st[3] * o.stride[1]});
  return patches.reshape({b, groups, c / groups * o.kernel[0] * o.kernel[1], grid[0] * grid[1]});
}

torch::Tensor unfold_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                              std::int64_t groups) {
  return unfold_by_group(x, geometry, groups, patch_grid_size(geometry, x.size(2), x.size(3)));
}

torch::Tensor unfold_positions_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                                        std::int64_t groups,
                                        const std::array<std::int64_t, 2>& grid) {
  const auto& o = geometry;
  check_grid(o, x, grid);
  // (B, H + 2 p_h, W + 2 p_w, C), contiguous: padding the permuted view writes it
  // channels-last in one copy (without padding, constant_pad_nd would clone in the
  // old layout and contiguous() copy again).
  const auto nhwc = x.permute({0, 2, 3, 1});
  const bool no_padding = o.padding[0] == 0 && o.padding[1] == 0;
  const auto padded = no_padding ? nhwc.contiguous()
                                 : torch::constant_pad_nd(nhwc, {0, 0, o.padding[1], o.padding[1],
                                                                 o.padding[0], o.padding[0]})
                                       .contiguous();
  const std::int64_t b = padded.size(0);
  const std::int64_t cg = padded.size(3) / groups;
  const auto st = padded.strides();
  const auto patches =
      padded.as_strided({b, groups, grid[0], grid[1], o.kernel[0], o.kernel[1], cg},
                        {st[0], cg * st[3], st[1] * o.stride[0], st[2] * o.stride[1],
                         st[1] * o.dilation[0], st[2] * o.dilation[1], st[3]});
  return patches.reshape({b, groups, grid[0] * grid[1], o.kernel[0] * o.kernel[1] * cg});
}

torch::Tensor unfold_positions_by_group(const torch::Tensor& x, const PatchGeometry& geometry,
                                        std::int64_t groups) {
  return unfold_positions_by_group(x, geometry, groups,
                                   patch_grid_size(geometry, x.size(2), x.size(3)));
}

}  // namespace dpsgd::privacy
