#pragma once
// The training objective as per-example quantities. Losses are returned per
// example (shape B), never reduced: DP-SGD needs each example's gradient, and the
// engines obtain them by back-propagating the *sum* of per-example losses.
#include <memory>
#include <string>

#include <torch/torch.h>

namespace dpsgd::models {

class Objective {
 public:
  virtual ~Objective() = default;
  /// Per-example loss, shape (B).
  [[nodiscard]] virtual torch::Tensor per_example_loss(const torch::Tensor& output,
                                                       const torch::Tensor& target) const = 0;
  /// Per-example score in [0, 1] (accuracy for classification), shape (B).
  [[nodiscard]] virtual torch::Tensor per_example_score(const torch::Tensor& output,
                                                        const torch::Tensor& target) const = 0;
  /// Name of the score in metrics files, e.g. "accuracy".
  [[nodiscard]] virtual std::string score_name() const = 0;
};

/// Cross-entropy on logits: -log_softmax(z)[y]. Softmax is applied here once and
/// nowhere else (models output logits).
class CrossEntropyObjective final : public Objective {
 public:
  [[nodiscard]] torch::Tensor per_example_loss(const torch::Tensor& output,
                                               const torch::Tensor& target) const override;
  [[nodiscard]] torch::Tensor per_example_score(const torch::Tensor& output,
                                                const torch::Tensor& target) const override;
  [[nodiscard]] std::string score_name() const override { return "accuracy"; }
};

}  // namespace dpsgd::models
