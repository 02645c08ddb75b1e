#include "dpsgd/privacy/per_example/embedding_rule.hpp"

#include "dpsgd/models/layers/embedding.hpp"

namespace dpsgd::privacy {
namespace {

models::EmbeddingImpl& as_embedding(models::TappedLayer& layer) {
  return dynamic_cast<models::EmbeddingImpl&>(layer);
}

// (B, T) indices and (B * T, D) output-gradient rows, T = lookups per example.
torch::Tensor index_rows(const torch::Tensor& idx) { return idx.reshape({idx.size(0), -1}); }
torch::Tensor grad_rows(const torch::Tensor& g) { return g.reshape({-1, g.size(-1)}); }

// (B, T): row of the stacked (B * V, D) per-example tables that each lookup hits.
torch::Tensor example_keys(const torch::Tensor& idx, std::int64_t vocabulary) {
  const auto rows = index_rows(idx);
  return rows + torch::arange(rows.size(0), rows.options()).unsqueeze(1) * vocabulary;
}

}  // namespace

torch::Tensor EmbeddingRule::input_grad(models::TappedLayer& /*layer*/, const torch::Tensor& /*a*/,
                                        const torch::Tensor& /*g*/) const {
  // Integer indices have no gradient; nothing upstream can need one.
  return {};
}

std::vector<torch::Tensor> EmbeddingRule::per_example_grads(models::TappedLayer& layer,
                                                            const torch::Tensor& a,
                                                            const torch::Tensor& g) const {
  const auto& weight = as_embedding(layer).weight;
  const std::int64_t vocabulary = weight.size(0);
  const std::int64_t batch = a.size(0);
  auto tables = torch::zeros({batch * vocabulary, weight.size(1)}, g.options());
  tables.index_add_(0, example_keys(a, vocabulary).flatten(), grad_rows(g));
  return {tables.view({batch, vocabulary, weight.size(1)})};
}

torch::Tensor EmbeddingRule::per_example_sq_norms(models::TappedLayer& layer,
                                                  const torch::Tensor& a,
                                                  const torch::Tensor& g) const {
  const std::int64_t vocabulary = as_embedding(layer).weight.size(0);
  const std::int64_t batch = a.size(0);
  // The distinct (example, index) keys and, per lookup, which one it is.
  const auto [keys, slot, counts] = torch::_unique2(example_keys(a, vocabulary).flatten(),
                                                    /*sorted=*/true, /*return_inverse=*/true,
                                                    /*return_counts=*/false);
  (void)counts;
  auto rows = torch::zeros({keys.size(0), g.size(-1)}, g.options());
  rows.index_add_(0, slot, grad_rows(g));  // the nonzero rows of every example's gradient
  auto sq = torch::zeros({batch}, g.options());
  sq.index_add_(0, torch::div(keys, vocabulary, "floor"), rows.pow(2).sum(1));
  return sq.unsqueeze(1);
}

std::vector<torch::Tensor> EmbeddingRule::weighted_grad_sum(models::TappedLayer& layer,
                                                            const torch::Tensor& a,
                                                            const torch::Tensor& g,
                                                            const torch::Tensor& weights) const {
  const auto& weight = as_embedding(layer).weight;
  const auto w = weights.to(g.scalar_type()).select(1, 0);
  const auto idx = index_rows(a);
  const auto scaled = g.reshape({idx.size(0), idx.size(1), -1}) * w.view({-1, 1, 1});
  auto sum = torch::zeros_like(weight, g.options());
  sum.index_add_(0, idx.flatten(), grad_rows(scaled));
  return {sum};
}

}  // namespace dpsgd::privacy
