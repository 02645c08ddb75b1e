#pragma once
// The training objective as per-example quantities. Losses are returned per
// example (shape B), never reduced over the batch: DP-SGD needs each example's
// gradient, and the engines obtain them by back-propagating the *sum* of
// per-example losses. A per-example loss must depend on its own example only
// (no batch statistics), or per-example clipping would not bound sensitivity.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::models {

/// Accumulates evaluation metrics over the batches of one split.
class EvalAccumulator {
 public:
  virtual ~EvalAccumulator() = default;
  virtual void add(const torch::Tensor& output, const torch::Tensor& target) = 0;
  /// Scalar metrics by name (always "loss" and the objective's score name). A
  /// metric with no defined value is NaN (written as null).
  [[nodiscard]] virtual std::map<std::string, double> scalars() const = 0;
  /// Per-class metrics by name (e.g. "dice_per_class"); NaN where undefined.
  [[nodiscard]] virtual std::map<std::string, std::vector<double>> vectors() const { return {}; }
};

class Objective {
 public:
  virtual ~Objective() = default;
  /// Per-example loss, shape (B).
  [[nodiscard]] virtual torch::Tensor per_example_loss(const torch::Tensor& output,
                                                       const torch::Tensor& target) const = 0;
  /// Per-example score in [0, 1] (accuracy for classification, Dice for
  /// segmentation), shape (B); always defined (the trainer averages it per step).
  [[nodiscard]] virtual torch::Tensor per_example_score(const torch::Tensor& output,
                                                        const torch::Tensor& target) const = 0;
  /// Name of the score in metrics files, e.g. "accuracy".
  [[nodiscard]] virtual std::string score_name() const = 0;
  /// A fresh accumulator for evaluation; the default records the mean loss and
  /// the mean score over examples.
  [[nodiscard]] virtual std::unique_ptr<EvalAccumulator> make_accumulator() const;
};

/// Cross-entropy on logits: -log_softmax(z)[y], for class targets (B) or dense
/// targets (B x H x W, averaged over pixels per example). Softmax is applied here
/// once and nowhere else (models output logits).
class CrossEntropyObjective final : public Objective {
 public:
  [[nodiscard]] torch::Tensor per_example_loss(const torch::Tensor& output,
                                               const torch::Tensor& target) const override;
  [[nodiscard]] torch::Tensor per_example_score(const torch::Tensor& output,
                                                const torch::Tensor& target) const override;
  [[nodiscard]] std::string score_name() const override { return "accuracy"; }
};

/// Mean over every dimension but the first: (B, ...) -> (B).
torch::Tensor mean_per_example(const torch::Tensor& t);

}  // namespace dpsgd::models
