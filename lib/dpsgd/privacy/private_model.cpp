#include "dpsgd/privacy/private_model.hpp"

#include <set>

#include "dpsgd/util/error.hpp"

namespace dpsgd::privacy {
namespace {

bool mixes_examples(const torch::nn::Module& module) {
  return dynamic_cast<const torch::nn::BatchNorm1dImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::BatchNorm2dImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::BatchNorm3dImpl*>(&module) != nullptr;
}

}  // namespace

PrivateModel inspect_model(models::Model& model) {
  PrivateModel out;
  out.model = &model;
  std::set<const void*> covered;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    const auto& module = *item.value();
    if (mixes_examples(module)) {
      throw util::UserError(
          "layer '" + item.key() + "' (" + module.name() +
          ") mixes the examples of a batch, so per-example gradients and DP-SGD's "
          "sensitivity bound do not hold; replace it with GroupNorm or LayerNorm");
    }
    auto* tapped = dynamic_cast<models::TappedLayer*>(item.value().get());
    if (tapped == nullptr) continue;
    out.layer_first_param.push_back(out.params.size());
    const auto local = item.value()->named_parameters(/*recurse=*/false);
    for (const auto& p : tapped->layer_parameters()) {
      std::string pname = item.key() + ".?";
      for (const auto& named : local) {
        if (named.value().is_same(p)) pname = item.key() + "." + named.key();
      }
      out.params.push_back(p);
      out.param_names.push_back(pname);
      out.param_layer.push_back(out.layers.size());
      covered.insert(p.unsafeGetTensorImpl());
    }
    out.layers.push_back(tapped);
    out.layer_names.push_back(item.key());
  }
  for (const auto& named : model.named_parameters(/*recurse=*/true)) {
    if (!named.value().requires_grad()) continue;
    if (covered.count(named.value().unsafeGetTensorImpl()) == 0) {
      throw util::UserError("trainable parameter '" + named.key() +
                            "' belongs to a layer without per-example gradient support; build "
                            "the model from dpsgd's layers (models/: Linear, Conv2d, "
                            "ConvTranspose2d, GroupNorm, LayerNorm, Embedding) or freeze it "
                            "(requires_grad false)");
    }
  }
  return out;
}

}  // namespace dpsgd::privacy
