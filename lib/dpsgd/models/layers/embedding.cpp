#include "dpsgd/models/layers/embedding.hpp"

#include <stdexcept>

#include "dpsgd/util/logging.hpp"

namespace dpsgd::models {

EmbeddingImpl::EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim) {
  if (num_embeddings <= 0 || embedding_dim <= 0) {
    throw std::invalid_argument("Embedding: sizes must be positive");
  }
  // PyTorch's default initialisation: standard normal.
  weight = register_parameter("weight", torch::randn({num_embeddings, embedding_dim}));
}

torch::Tensor EmbeddingImpl::plain_forward(const torch::Tensor& indices) {
  if (indices.scalar_type() != torch::kLong) {
    throw std::invalid_argument("Embedding expects int64 indices, got " +
                                std::string(c10::toString(indices.scalar_type())));
  }
  return torch::embedding(weight, indices);
}

std::string EmbeddingImpl::describe() const {
  return util::cat("Embedding(", weight.size(0), ", ", weight.size(1), ")");
}

}  // namespace dpsgd::models
