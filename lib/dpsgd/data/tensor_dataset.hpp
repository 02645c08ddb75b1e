#pragma once
// A dataset held entirely in memory as two aligned tensors. The datasets this
// runner uses (Fashion-MNIST and friends) fit in memory, and keeping them as one
// tensor lets a Poisson-sampled batch of any size be gathered with a single
// index_select instead of a per-example loop.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include <torch/torch.h>

namespace dpsgd::data {

struct TensorDataset {
  torch::Tensor inputs;   ///< float32, N x C x H x W
  torch::Tensor targets;  ///< int64, N (class indices) or N x H x W (per-pixel classes)
  std::string name;       ///< for logs and run summaries

  /// Number of examples N (0 for a default-constructed dataset).
  std::int64_t size() const { return targets.defined() ? targets.size(0) : 0; }

  /// The first `first_n` examples (a view, no copy); a value >= size() keeps all
  /// of them. Taking a prefix rather than a random subset keeps a run's data a
  /// function of its config alone. The privacy accounting must then use the
  /// subset's size, which is why this returns a dataset and not just tensors.
  TensorDataset subset(std::int64_t first_n) const {
    if (first_n < 0) {
      throw std::invalid_argument("TensorDataset::subset: first_n must be >= 0, got " +
                                  std::to_string(first_n));
    }
    if (first_n >= size()) return *this;
    return TensorDataset{inputs.narrow(0, 0, first_n), targets.narrow(0, 0, first_n), name};
  }

  /// The batch (inputs[indices], targets[indices]). `indices` is an int64 tensor
  /// (any device; it is moved to the data's device); an empty index tensor gives
  /// an empty batch of shape 0 x C x H x W, which a Poisson sampler can produce.
  std::pair<torch::Tensor, torch::Tensor> gather(const torch::Tensor& indices) const {
    const auto index = indices.to(inputs.device(), torch::kLong);
    return {inputs.index_select(0, index), targets.index_select(0, index.to(targets.device()))};
  }
};

}  // namespace dpsgd::data
