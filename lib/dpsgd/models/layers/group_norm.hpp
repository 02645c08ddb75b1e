#pragma once
// Group normalisation (Wu & He 2018) on input (B, C, *): each example's channels
// are split into G groups, each group normalised by its own mean and variance,
// then an optional per-channel affine. Statistics are per example, so unlike
// BatchNorm it never mixes the examples of a batch and per-example gradients exist.
//
// Built as the parameter-free normalisation (plain autograd, which carries the
// gradient through the statistics to earlier layers) followed by a tapped
// ChannelAffine: x_hat = group_norm(x), y = x_hat * w[c] + b[c]. The affine's
// input x_hat is then what the capture records.
#include "dpsgd/models/layers/channel_affine.hpp"

namespace dpsgd::models {

struct GroupNormOptions {
  std::int64_t num_groups = 1;
  std::int64_t num_channels = 1;
  double eps = 1e-5;
  bool affine = true;
};

/// Not a TappedLayer itself: with affine false it has no parameters at all.
class GroupNormImpl : public torch::nn::Module {
 public:
  explicit GroupNormImpl(const GroupNormOptions& options);

  torch::Tensor forward(const torch::Tensor& input);
  [[nodiscard]] const GroupNormOptions& options() const { return options_; }

  ChannelAffine affine{nullptr};  ///< null when options.affine is false

 private:
  GroupNormOptions options_;
};
TORCH_MODULE(GroupNorm);

}  // namespace dpsgd::models
