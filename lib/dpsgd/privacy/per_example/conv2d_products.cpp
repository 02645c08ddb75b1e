#include "dpsgd/privacy/per_example/conv2d_products.hpp"

namespace dpsgd::privacy {

// (B, G, p_g, T): the output gradient, split by group.
torch::Tensor conv2d_grad_by_group(const models::Conv2dOptions& o, const torch::Tensor& g) {
  return g.reshape({g.size(0), o.groups, g.size(1) / o.groups, -1});
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> conv2d_backward(
    const models::Conv2dOptions& o, const torch::Tensor& w, const torch::Tensor& a,
    const torch::Tensor& g, std::array<bool, 3> mask) {
  return at::convolution_backward(g, a, w, c10::nullopt, {o.stride[0], o.stride[1]},
                                  {o.padding[0], o.padding[1]}, {o.dilation[0], o.dilation[1]},
                                  /*transposed=*/false, {0, 0}, o.groups, mask);
}

namespace {

// (B, C_out, C_in/G, kh, kw): every example's weight gradient at once, as the
// weight gradient of one convolution whose groups are (example, group) pairs:
// stacking the batch into channels makes example i's input meet only its own
// output gradient. Exact (the same sums), and it uses the library's
// weight-gradient kernel instead of an explicit im2col copy (measured 2.5x faster
// on CPU for the TF-CNN's first layer at batch 2048).
torch::Tensor per_example_weight_grads_by_backward(const models::Conv2dOptions& o,
                                                   const torch::Tensor& w, const torch::Tensor& a,
                                                   const torch::Tensor& g) {
  const std::int64_t b = a.size(0);
  const auto stacked_weight = w.unsqueeze(0)
                                  .expand({b, w.size(0), w.size(1), w.size(2), w.size(3)})
                                  .reshape({b * w.size(0), w.size(1), w.size(2), w.size(3)});
  const auto grads = std::get<1>(at::convolution_backward(
      g.reshape({1, b * g.size(1), g.size(2), g.size(3)}),
      a.reshape({1, b * a.size(1), a.size(2), a.size(3)}), stacked_weight, c10::nullopt,
      {o.stride[0], o.stride[1]}, {o.padding[0], o.padding[1]}, {o.dilation[0], o.dilation[1]},
      /*transposed=*/false, {0, 0}, b * o.groups, {false, true, false}));
  return grads.view({b, w.size(0), w.size(1), w.size(2), w.size(3)});
}

// The same for a layer with one input channel (a grayscale first layer) as a
// forward correlation: with s the stride and d the dilation,
//   dW_i[o, 0, kh, kw] = sum_{y,x} g_i[o, y, x] a_i[0, s y + d kh - p, s x + d kw - p],
// i.e. input a_i correlated with the "kernel" g_i[o], whose taps are s apart
// (dilation s) and whose outputs are d apart (stride d). Channel i is group i and
// its C_out output gradients are that group's kernels, so g needs no copy. The
// algebra holds whenever every group has one input channel, but on CPU (2 threads)
// it measured faster than the backward form for every single-channel layer tried
// (TF-CNN conv1 8.7 vs 10.6 ms at batch 1024, 5x5 at 28x28 18 vs 86 ms, 3x3 at
// 56..224 px 2-2.7x) and slower for some depthwise ones (32 channels, 28x28,
// stride 2: 19.8 vs 7.8 ms), so only single-channel layers take it, and only on
// CPU: on GPU a grouped convolution whose kernel is the whole output map (224 x 224
// for the U-Net's first layer) is unmeasured and may hit a slow algorithm, so CUDA
// keeps the backward form until a device run says otherwise.
torch::Tensor per_example_weight_grads_by_correlation(const models::Conv2dOptions& o,
                                                      const torch::Tensor& w,
                                                      const torch::Tensor& a,
                                                      const torch::Tensor& g) {
  const std::int64_t b = a.size(0);
  auto grads = torch::conv2d(a.reshape({1, b * a.size(1), a.size(2), a.size(3)}),
                             g.reshape({b * g.size(1), 1, g.size(2), g.size(3)}), torch::Tensor(),
                             /*stride=*/{o.dilation[0], o.dilation[1]},
                             /*padding=*/{o.padding[0], o.padding[1]},
                             /*dilation=*/{o.stride[0], o.stride[1]}, b * a.size(1));
  // Rows and columns of the padded input past the last kernel position give
  // extra outputs; the kernel's taps are the first kh x kw.
  grads = grads.narrow(2, 0, w.size(2)).narrow(3, 0, w.size(3));
  return grads.reshape({b, w.size(0), 1, w.size(2), w.size(3)});
}

}  // namespace

torch::Tensor conv2d_per_example_weight_grads(const models::Conv2dOptions& o,
                                              const torch::Tensor& w, const torch::Tensor& a,
                                              const torch::Tensor& g) {
  if (o.in_channels == 1 && a.is_cpu()) {
    return per_example_weight_grads_by_correlation(o, w, a, g);
  }
  return per_example_weight_grads_by_backward(o, w, a, g);
}

torch::Tensor conv2d_per_group_weight_grads(const models::Conv2dOptions& o, const torch::Tensor& w,
                                            const torch::Tensor& a, const torch::Tensor& g,
                                            std::int64_t views) {
  if (views == 1) return conv2d_per_example_weight_grads(o, w, a, g);
  const std::int64_t b = a.size(0) / views;
  // (K, B C, H, W): view k of every example side by side in channels, so the
  // batch dimension of the product, over which it sums, runs over the views.
  const auto by_view = [&](const torch::Tensor& t) {
    return t.reshape({b, views, t.size(1), t.size(2), t.size(3)})
        .transpose(0, 1)
        .reshape({views, b * t.size(1), t.size(2), t.size(3)});
  };
  const auto stacked_weight = w.unsqueeze(0)
                                  .expand({b, w.size(0), w.size(1), w.size(2), w.size(3)})
                                  .reshape({b * w.size(0), w.size(1), w.size(2), w.size(3)});
  const auto grads = std::get<1>(at::convolution_backward(
      by_view(g), by_view(a), stacked_weight, c10::nullopt, {o.stride[0], o.stride[1]},
      {o.padding[0], o.padding[1]}, {o.dilation[0], o.dilation[1]},
      /*transposed=*/false, {0, 0}, b * o.groups, {false, true, false}));
  return grads.view({b, w.size(0), w.size(1), w.size(2), w.size(3)});
}

torch::Tensor conv2d_per_group_bias_grads(const torch::Tensor& g, std::int64_t views) {
  const auto rows = g.sum({2, 3});
  if (views == 1) return rows;
  return rows.view({rows.size(0) / views, views, rows.size(1)}).sum(1);
}

bool conv2d_materializing_is_cheaper(const models::Conv2dOptions& o, const torch::Tensor& w,
                                     const torch::Tensor& g) {
  const std::int64_t t = g.size(2) * g.size(3);
  const std::int64_t p = w.size(0) / o.groups;
  const std::int64_t d = w.size(1) * w.size(2) * w.size(3);
  return t * t >= p * d;
}

}  // namespace dpsgd::privacy
