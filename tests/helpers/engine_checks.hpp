#pragma once
// Whole-model check of every per-example engine against the exact loop, shared by
// the model tests (CIFAR zoo, segmentation models).
#include <torch/torch.h>

#include "dpsgd/models/model.hpp"
#include "dpsgd/models/objectives/objective.hpp"

namespace dpsgd::test {

/// Every registered engine (auto resolves to one of them) against the loop under
/// flat clipping with C so small that every example is clipped: the factors
/// C / ||g_i|| then depend on each example's exact norm, so a wrong norm shows in
/// the sum. Engines that clip microbatch means get one example per call (a
/// microbatch of one example is that example). `objective` null: cross-entropy.
void check_engines_against_loop(models::Model& model, const torch::Tensor& x,
                                const torch::Tensor& y,
                                const models::Objective* objective = nullptr);

}  // namespace dpsgd::test
