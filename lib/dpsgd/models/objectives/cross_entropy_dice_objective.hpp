#pragma once
// Segmentation objective: per-pixel cross-entropy plus soft Dice, per example,
// on logits B x K x H x W and integer targets B x H x W:
//   loss_i = ce_weight * mean_pixels(-log softmax(z_i)[y]) +
//            dice_weight * (1 - mean_k (2 sum p_ik t_ik + s) / (sum p_ik + sum t_ik + s))
// with p_i = softmax(z_i) over classes, t_i the one-hot target and s = 1 (the usual
// smoothing, which also makes a class absent from both count as agreement).
// Both terms take the softmax of the logits exactly once each (log_softmax for
// the cross-entropy, softmax for Dice); the model itself outputs logits. Every
// sum runs over one example's pixels, so loss_i depends on example i alone and
// its gradient is that B-scan's per-example gradient.
//
// The score (per step and in evaluations) is the hard Dice of the argmax over
// `score_classes` (e.g. the seven retinal layers, labels 1-7), see dice.hpp.
#include <cstdint>
#include <vector>

#include "dpsgd/models/objectives/objective.hpp"

namespace dpsgd::models {

struct CrossEntropyDiceOptions {
  std::int64_t num_classes = 2;
  double ce_weight = 1.0;
  double dice_weight = 1.0;
  double smooth = 1.0;
  /// Classes of the headline Dice score; empty: 1 .. num_classes - 1 (all but
  /// background 0).
  std::vector<std::int64_t> score_classes;
};

class CrossEntropyDiceObjective final : public Objective {
 public:
  explicit CrossEntropyDiceObjective(CrossEntropyDiceOptions options);

  [[nodiscard]] torch::Tensor per_example_loss(const torch::Tensor& output,
                                               const torch::Tensor& target) const override;
  [[nodiscard]] torch::Tensor per_example_score(const torch::Tensor& output,
                                                const torch::Tensor& target) const override;
  [[nodiscard]] std::string score_name() const override { return "dice"; }
  /// loss, dice (score classes), dice_all (every class), pixel_accuracy and
  /// dice_per_class; see dice.hpp for how absent classes are treated.
  [[nodiscard]] std::unique_ptr<EvalAccumulator> make_accumulator() const override;

  [[nodiscard]] const CrossEntropyDiceOptions& options() const { return options_; }

 private:
  CrossEntropyDiceOptions options_;
  std::vector<std::int64_t> all_classes_;
};

}  // namespace dpsgd::models
