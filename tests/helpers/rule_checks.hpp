#pragma once
// Shared checks of the per-example gradient rules, used by the layer tests.
#include <torch/torch.h>

#include "dpsgd/models/model.hpp"

namespace dpsgd::test {

/// Max-abs closeness relative to max(1, |expected|_max), with the error in the report.
void require_close(const torch::Tensor& actual, const torch::Tensor& expected, double tol);

/// Every rule of every tapped layer of `model` on (x, y) against plain autograd one
/// example at a time: per-example gradients, the ghost (Gram-form) norms and random
/// weighted sums, whichever route the ghost engine would take for the layer.
void check_rules(models::Model& model, const torch::Tensor& x, const torch::Tensor& y);

}  // namespace dpsgd::test
