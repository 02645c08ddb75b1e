#include "dpsgd/train/optimizer_registry.hpp"

namespace dpsgd::train {

void register_builtin_optimizers(OptimizerRegistry& registry) {
  registry.add("sgd", "SGD with optional (Nesterov) momentum and weight decay",
               [](std::vector<torch::Tensor> params, const OptimizerOptions& o) {
                 return std::make_unique<torch::optim::SGD>(std::move(params),
                                                            torch::optim::SGDOptions(o.lr)
                                                                .momentum(o.momentum)
                                                                .nesterov(o.nesterov)
                                                                .weight_decay(o.weight_decay));
               });
  registry.add("adam", "Adam (L2 weight decay added to the gradient)",
               [](std::vector<torch::Tensor> params, const OptimizerOptions& o) {
                 return std::make_unique<torch::optim::Adam>(std::move(params),
                                                             torch::optim::AdamOptions(o.lr)
                                                                 .betas({o.beta1, o.beta2})
                                                                 .eps(o.eps)
                                                                 .weight_decay(o.weight_decay));
               });
  registry.add("adamw", "AdamW (decoupled weight decay)",
               [](std::vector<torch::Tensor> params, const OptimizerOptions& o) {
                 return std::make_unique<torch::optim::AdamW>(std::move(params),
                                                              torch::optim::AdamWOptions(o.lr)
                                                                  .betas({o.beta1, o.beta2})
                                                                  .eps(o.eps)
                                                                  .weight_decay(o.weight_decay));
               });
}

const OptimizerRegistry& optimizer_registry() {
  static const OptimizerRegistry registry = [] {
    OptimizerRegistry r("optimizer");
    register_builtin_optimizers(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::train
