#pragma once
// Dice scores of hard segmentations (argmax of logits), per example and per
// class, from one confusion matrix per example.
//
// Dice of class k for one example: 2 |P_k & T_k| / (|P_k| + |T_k|), with P_k the
// predicted and T_k the true pixels of class k. A class absent from both
// (|P_k| + |T_k| = 0) has no Dice (0/0): it is left out of every mean rather than
// counted as 0 (which would punish a correct "nothing here") or as 1 (which would
// inflate scores on classes that are simply missing from a B-scan).
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::models {

/// Per-example confusion matrices, int64 B x K x K, entry [b][p][t] = number of
/// pixels of example b predicted p with true class t. `predicted` and `target`
/// are int64 B x H x W with values in [0, K).
torch::Tensor confusion_matrices(const torch::Tensor& predicted, const torch::Tensor& target,
                                 std::int64_t num_classes);

/// Per-example, per-class Dice (float64 B x K) from confusion matrices; NaN where
/// the class is absent from both prediction and truth.
torch::Tensor dice_per_class(const torch::Tensor& confusion);

/// Mean over `classes` of each example's Dice, skipping the NaN (absent) ones;
/// an example where every listed class is absent from both prediction and truth
/// scores 1 (nothing to find and nothing found). float64 (B).
torch::Tensor mean_dice(const torch::Tensor& per_class, const std::vector<std::int64_t>& classes);

}  // namespace dpsgd::models
