#pragma once
// Lookup table y[..., :] = weight[idx[...], :] for int64 indices of any shape
// (batch first). The input is integer, so it has no gradient: the layer is only
// ever first on its path, and its rule never computes an input gradient.
#include "dpsgd/models/layers/layer_tap.hpp"

namespace dpsgd::models {

class EmbeddingImpl : public torch::nn::Module, public TappedLayer {
 public:
  EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim);

  torch::Tensor forward(const torch::Tensor& indices) { return tapped_forward(indices); }
  torch::Tensor plain_forward(const torch::Tensor& indices) override;
  [[nodiscard]] LayerKind kind() const override { return LayerKind::kEmbedding; }
  std::vector<torch::Tensor> layer_parameters() override { return {weight}; }
  [[nodiscard]] std::string describe() const override;

  torch::Tensor weight;  ///< num_embeddings x embedding_dim
};
TORCH_MODULE(Embedding);

}  // namespace dpsgd::models
