#include "dpsgd/models/zoo/model_registry.hpp"

#include "dpsgd/models/zoo/filter_bank_head.hpp"
#include "dpsgd/models/zoo/linear_model.hpp"
#include "dpsgd/models/zoo/mlp.hpp"
#include "dpsgd/models/zoo/nested_unet.hpp"
#include "dpsgd/models/zoo/resnet20.hpp"
#include "dpsgd/models/zoo/tf_cnn.hpp"
#include "dpsgd/models/zoo/unet.hpp"
#include "dpsgd/models/zoo/wide_resnet.hpp"

namespace dpsgd::models {

void register_builtin_models(ModelRegistry& registry) {
  registry.add("tf_cnn", "TF Privacy tutorial CNN with ReLU (Abadi et al. 2016)",
               [](const ModelOptions& o) -> ModelPtr {
                 return std::make_shared<TfCnn>(Activation::kRelu, o.in_channels, o.num_classes);
               });
  registry.add("tanh_cnn", "TF Privacy tutorial CNN with tanh (Tramer & Boneh 2021)",
               [](const ModelOptions& o) -> ModelPtr {
                 return std::make_shared<TfCnn>(Activation::kTanh, o.in_channels, o.num_classes);
               });
  registry.add("linear",
               "linear classifier on the flattened inputs (a private head on fixed features; "
               "model.zero_init starts it at 0)",
               [](const ModelOptions& o) -> ModelPtr {
                 return std::make_shared<LinearModel>(o.in_features, o.num_classes, o.zero_init);
               });
  registry.add("unet",
               "U-Net (Ronneberger et al. 2015), GroupNorm, transposed-conv upsampling; "
               "per-pixel logits",
               [](const ModelOptions& o) -> ModelPtr { return std::make_shared<UNet>(o); });
  registry.add("nested_unet",
               "Nested U-Net / UNet++ (Zhou et al. 2018), GroupNorm, bilinear upsampling; "
               "per-pixel logits",
               [](const ModelOptions& o) -> ModelPtr { return std::make_shared<NestedUNet>(o); });
  registry.add(
      "filter_bank_head",
      "per-pixel head (1x1 convolutions, widths model.hidden) on a fixed multi-scale "
      "Gaussian-derivative filter bank (model.scales); only the head is trained",
      [](const ModelOptions& o) -> ModelPtr { return std::make_shared<FilterBankHead>(o); });
  registry.add("wide_resnet",
               "Wide-ResNet WRN-depth-width (model.depth, model.width; WRN-16-4 by default), "
               "pre-activation, GroupNorm + weight standardisation (De et al. 2022)",
               [](const ModelOptions& o) -> ModelPtr { return std::make_shared<WideResNet>(o); });
  registry.add("resnet20",
               "CIFAR ResNet-20 (He et al. 2016) with GroupNorm for BatchNorm; "
               "model.weight_standardisation for weight-standardised convolutions",
               [](const ModelOptions& o) -> ModelPtr { return std::make_shared<ResNet20>(o); });
  registry.add("mlp",
               "multilayer perceptron on the flattened inputs: ReLU hidden layers of widths "
               "model.hidden",
               [](const ModelOptions& o) -> ModelPtr { return std::make_shared<Mlp>(o); });
  registry.add("logistic_regression",
               "multinomial logistic regression on the flattened inputs: the same model as "
               "`linear` (model.zero_init starts it at 0)",
               [](const ModelOptions& o) -> ModelPtr {
                 return std::make_shared<LinearModel>(o.in_features, o.num_classes, o.zero_init);
               });
}

const ModelRegistry& model_registry() {
  static const ModelRegistry registry = [] {
    ModelRegistry r("model");
    register_builtin_models(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::models
