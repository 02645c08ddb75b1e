#pragma once
// Optimizer registry, keyed by YAML `train.optimizer.name`. Optimizers only
// ever see the already privatised gradient in .grad(), so any optimizer works
// with any clipping method and none of them touches per-example data.
#include <functional>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/util/registry.hpp"

namespace dpsgd::train {

struct OptimizerOptions {
  double lr = 0.1;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

using OptimizerFactory = std::function<std::unique_ptr<torch::optim::Optimizer>(
    std::vector<torch::Tensor> params, const OptimizerOptions&)>;
using OptimizerRegistry = util::Registry<OptimizerFactory>;

void register_builtin_optimizers(OptimizerRegistry& registry);
const OptimizerRegistry& optimizer_registry();

}  // namespace dpsgd::train
